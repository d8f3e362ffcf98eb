"""The forms engine as a built-in plugin.

Every built-in field type, expression function, validator and form action is registered here
with the same ``ctx.add_…`` calls a plugin makes; at run time the forms Environment is built
from the app's registries (forms.appenv), so a plugin's additions work in YAML at once.
"""

from pathlib import Path

from huey import crontab

from forms import admin
from forms import api
from forms import demo
from forms.actions import register_builtin_actions
from forms.actions import run_actions
from forms.fields import BUILTIN_TYPES
from forms.functions import BUILTINS as BUILTIN_FUNCTIONS
from forms.models import MODELS
from forms.seed import seed_builtin_migration
from forms.tasks import purge_orphan_files
from forms.validators import BUILTIN_VALIDATORS
from forms.validators import valid_function
from portal.migrations import create_tables_migration
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin

SUBMITTERS = {"engineer", "manager", "hospital_it"}


def setup(ctx):
    ctx.add_models(*MODELS)
    ctx.add_resource("form_types", rules())  # writing and publishing definitions: admin only
    ctx.add_resource("form_definitions", rules(read_only=True, view=ALL_ROLES))
    ctx.add_resource("submissions", rules(view=ALL_ROLES, create=SUBMITTERS, edit=SUBMITTERS,
                                          transition=ALL_ROLES, export={"hospital_it", "manager"}))
    for kind in BUILTIN_TYPES:
        ctx.add_field_type(kind.name, kind())
    for function in BUILTIN_FUNCTIONS:
        ctx.add_expression_function(function.name, function)
    for name, check in BUILTIN_VALIDATORS.items():
        ctx.add_validator(name, check)
    validators = ctx.app.extensions["weibao"].registry("validator")
    ctx.add_expression_function("valid", valid_function(validators))
    # A notifications package loaded before forms may own "notify"; this fallback then stands aside.
    actions = ctx.app.extensions["weibao"].registry("form action")
    register_builtin_actions(ctx.add_form_action, include_notify="notify" not in actions)
    ctx.add_task("forms.run_actions", run_actions, retries=3, retry_delay=30)
    ctx.add_periodic_task("forms.purge_orphan_files", crontab(minute="17", hour="3"),
                          purge_orphan_files)
    ctx.add_blueprint(api.blueprint)
    for name, factory in admin.admin_views():
        ctx.add_admin_view(factory, name)
    ctx.add_demo_loader("forms", demo.load)
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(
    name="forms",
    setup=setup,
    requires=("accounts", "calendars", "contracts"),
    migrations=(create_tables_migration(*MODELS), seed_builtin_migration),
    description="YAML form types without code: versions, submissions, workflows and actions",
)
