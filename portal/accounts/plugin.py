"""The accounts built-in plugin: models, role rules, views, API and demo rows."""

from portal.accounts import admin
from portal.accounts import api
from portal.accounts import demo
from portal.accounts import views
from portal.accounts.models import ApiToken
from portal.accounts.models import Department
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.audit import AuditLog
from portal.migrations import create_tables_migration
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin

MODELS = (Organization, Department, User, ApiToken, AuditLog)


def setup(ctx):
    ctx.add_models(*MODELS)
    ctx.add_resource("portal", rules(view=ALL_ROLES))
    ctx.add_resource("organizations", rules())
    ctx.add_resource("users", rules())
    ctx.add_resource("departments", rules(view={"hospital_it", "manager"}, create={"hospital_it"},
                                          edit={"hospital_it"}, delete={"hospital_it"}, export={"hospital_it"}))
    ctx.add_resource("audit", rules(read_only=True, view={"hospital_it", "manager"}, export={"hospital_it", "manager"}))
    ctx.add_blueprint(views.blueprint)
    ctx.add_blueprint(api.blueprint)
    for name, factory in admin.admin_views():
        ctx.add_admin_view(factory, name)
    ctx.add_demo_loader("accounts", demo.load)


plugin = Plugin(
    name="accounts",
    setup=setup,
    migrations=(create_tables_migration(*MODELS),),
    description="Organisations, users, log-in and the audit trail",
)
