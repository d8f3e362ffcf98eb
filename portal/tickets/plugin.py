"""The tickets built-in plugin: models, role rules, workflow API and pages, SLA sweep, demo tickets."""

from pathlib import Path

from huey import crontab

from portal.migrations import create_tables_migration
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin
from portal.tickets import admin
from portal.tickets import api
from portal.tickets import demo
from portal.tickets import queue_order
from portal.tickets import search
from portal.tickets import tasks
from portal.tickets import views
from portal.tickets.models import MODELS


def setup(ctx):
    ctx.add_models(*MODELS)
    # View: everyone, scoped to their organisation (reporters: own and own department's tickets).
    # Create: whoever reports or takes down a problem. Edit/delete: admin only (the workflow,
    # not a form, changes tickets). Which role may take which workflow step: workflow.TRANSITIONS.
    ctx.add_resource("tickets", rules(view=ALL_ROLES, create={"reporter", "hospital_it", "engineer", "manager"},
                                      export={"hospital_it", "manager"}))
    ctx.add_blueprint(views.blueprint)
    ctx.add_blueprint(api.blueprint)
    for name, factory in admin.admin_views():
        ctx.add_admin_view(factory, name)
    ctx.add_periodic_task("tickets.sla_sweep", crontab(), tasks.sla_sweep)
    ctx.add_cli_command(tasks.verify_data_changes)
    ctx.add_demo_loader("tickets", demo.load)
    ctx.add_translations(Path(__file__).parent / "translations")


def _per_organisation(database, *columns):
    """``ticket_<vendor_id|hospital_id>_<columns>`` on (organisation, *columns), for both kinds."""
    for scope in ("vendor_id", "hospital_id"):
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS ticket_{'_'.join((scope, *columns))}"
                             f" ON ticket ({', '.join((scope, *columns))})")


def queue_indexes(database):
    """(vendor_id, status, resolve_due) and (hospital_id, status, resolve_due): the engineer queue
    and open-ticket counts read one index range instead of every ticket of the organisation."""
    _per_organisation(database, "status", "resolve_due")


def filter_indexes(database):
    """(organisation, status, id): the lists filtered by a rare status read one index range, not
    every ticket of the organisation (models.Ticket's indexes say why not priority)."""
    _per_organisation(database, "status", "id")


def queue_order_indexes(database):
    """Partial indexes in the engineer queue's order, over open tickets only (queue_order.py)."""
    queue_order.create_indexes(database)


def create_ticket_search_index(database):
    """The segmented full-text index of ticket titles and descriptions, back-filled (search.py)."""
    search.create_and_backfill(database)


plugin = Plugin(
    name="tickets",
    setup=setup,
    requires=("contracts",),
    migrations=(create_tables_migration(*MODELS), queue_indexes, create_ticket_search_index, queue_order_indexes,
                filter_indexes),
    description="Tickets: workflow, SLA deadlines and sweep, hash-chained data changes",
)
