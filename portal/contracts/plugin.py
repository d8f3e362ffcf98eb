"""The contracts built-in plugin: contracts, SLA targets, quota ledger, payments and outages."""

from pathlib import Path

from portal.contracts import admin
from portal.contracts import api
from portal.contracts import demo
from portal.contracts.models import MODELS
from portal.migrations import create_tables_migration
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin

STAFF = {"hospital_it", "engineer", "manager"}


def setup(ctx):
    ctx.add_models(*MODELS)
    ctx.add_resource("contracts", rules(view=ALL_ROLES, create={"manager"}, edit={"manager"},
                                        export={"hospital_it", "manager"}))
    ctx.add_resource("quota_usage", rules(read_only=True, view=STAFF, export={"hospital_it", "manager"}))
    ctx.add_resource("outages", rules(view=STAFF, create=STAFF, edit=STAFF, export={"hospital_it", "manager"}))
    ctx.add_blueprint(api.blueprint)
    for name, factory in admin.admin_views():
        ctx.add_admin_view(factory, name)
    ctx.add_demo_loader("contracts", demo.load)
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(
    name="contracts",
    setup=setup,
    requires=("calendars",),
    migrations=(create_tables_migration(*MODELS),),
    description="Maintenance contracts: covered systems, SLA targets, quotas, payments and outages",
)
