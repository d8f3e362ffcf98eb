"""The notify built-in plugin: outbox, channels, event receivers, periodic reminders, inbox, admin."""

from pathlib import Path

from huey import crontab

from portal.migrations import create_tables_migration
from portal.notify import admin
from portal.notify import api
from portal.notify import events
from portal.notify import tasks
from portal.notify import views
from portal.notify.channels import BUILTIN_CHANNELS
from portal.notify.models import MODELS
from portal.notify.outbox import DEFAULTS
from portal.notify.outbox import DELIVER_TASK
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin


def setup(ctx):
    for name, value in DEFAULTS.items():
        ctx.app.config.setdefault(name, value)
    ctx.add_models(*MODELS)
    # Everyone reads and marks their own inbox; only admins see the queue and configure channels;
    # managers keep their vendor's duty roster, which hospital IT and engineers may read.
    ctx.add_resource("notifications", rules(view=ALL_ROLES, edit=ALL_ROLES))
    ctx.add_resource("notifications_admin", rules())
    ctx.add_resource("notification_channels", rules())
    ctx.add_resource("duty_rosters", rules(view={"manager", "engineer", "hospital_it"}, create={"manager"},
                                           edit={"manager"}, delete={"manager"}, export={"manager"}))
    for channel in BUILTIN_CHANNELS:
        ctx.add_notification_channel(channel.name, channel)
    for signal_name, receiver in events.RECEIVERS.items():
        ctx.connect(signal_name, receiver)
    ctx.add_blueprint(views.blueprint)
    ctx.add_blueprint(api.blueprint)
    views.init_nav(ctx.app)
    ctx.add_user_menu_item("notifications", views.nav_item)
    for name, factory in admin.admin_views():
        ctx.add_admin_view(factory, name)
    ctx.add_task(DELIVER_TASK, tasks.deliver)
    ctx.add_periodic_task("notify.sweep", crontab(), tasks.sweep)
    ctx.add_periodic_task("notify.reminders", crontab(minute="7"), tasks.reminders)
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(
    name="notify",
    setup=setup,
    requires=("accounts",),
    migrations=(create_tables_migration(*MODELS),),
    description="Notifications: outbox, channels, inbox, duty rosters, reminders",
)
