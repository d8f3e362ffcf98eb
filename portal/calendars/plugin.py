"""The calendars built-in plugin: the stored business calendar, its admin pages and API."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from portal.calendars import admin
from portal.calendars import api
from portal.calendars import service
from portal.calendars.models import CalendarDay
from portal.calendars.models import CalendarSettings
from portal.migrations import create_tables_migration
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin

MODELS = (CalendarSettings, CalendarDay)


@click.command("calendar-sync")
@with_appcontext
def calendar_sync():
    """Seed official holiday data for every year the installed chinese_calendar covers."""
    click.echo(f"{service.seed_official()} day row(s) added or refreshed")


def setup(ctx):
    ctx.add_models(*MODELS)
    ctx.add_resource("calendar", rules(view=ALL_ROLES))
    ctx.add_blueprint(api.blueprint)
    for name, factory in admin.admin_views():
        ctx.add_admin_view(factory, name)
    ctx.add_cli_command(calendar_sync)
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(
    name="calendars",
    setup=setup,
    migrations=(create_tables_migration(*MODELS), service.seed_migration),
    description="Business calendar: working hours, statutory holidays and adjusted working days",
)
