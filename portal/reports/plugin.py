"""The reports built-in plugin: dashboard, monthly/weekly/quarterly reports, the scorecard."""

from pathlib import Path

from portal.migrations import create_tables_migration
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin
from portal.reports import admin
from portal.reports import api
from portal.reports import views
from portal.reports.models import MODELS

VIEWERS = {"hospital_it", "manager", "engineer"}


def ticket_period_index(database):
    """Migration 2: index tickets by (contract, reported_at). Every report reads one contract's
    tickets of one period; with only (contract, id) a 100,000-ticket contract is scanned whole by
    each of the monthly report's queries. (Owned here because reports are its only user.)"""
    database.execute_sql("CREATE INDEX IF NOT EXISTS reports_ticket_contract_reported "
                         "ON ticket (contract_id, reported_at)")


def setup(ctx):
    ctx.add_models(*MODELS)
    # The dashboard is every user's home; contract figures on it need the "reports" view right.
    ctx.add_resource("dashboard", rules(view=ALL_ROLES))
    ctx.add_resource("reports", rules(view=VIEWERS, export=VIEWERS))
    ctx.add_resource("weekly_confirmations", rules(view=VIEWERS, create={"hospital_it"}))
    ctx.add_resource("praise_letters", rules(view=VIEWERS, create={"hospital_it", "manager"},
                                             edit={"hospital_it", "manager"}, delete={"hospital_it", "manager"},
                                             export={"hospital_it", "manager"}))
    ctx.add_resource("survey_results", rules(view=VIEWERS, create={"hospital_it", "manager"},
                                             edit={"hospital_it", "manager"}, delete={"hospital_it", "manager"},
                                             export={"hospital_it", "manager"}))
    ctx.add_blueprint(api.blueprint)
    for name, factory in views.admin_views() + admin.admin_views():
        ctx.add_admin_view(factory, name)
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(
    name="reports",
    setup=setup,
    requires=("tickets", "contracts"),
    migrations=(create_tables_migration(*MODELS), ticket_period_index),
    description="Dashboard, monthly service report, weekly confirmation sheet, inspection report, quality scorecard",
)
