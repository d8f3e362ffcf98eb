"""Ordered schema migrations per component, recorded in one version table.

Each plugin lists its migrations in order; migration N runs once, inside a transaction, and
records (component, N). ``weibao init`` creates or upgrades; existing data is kept.
"""

from datetime import datetime
from datetime import timezone

from peewee import CharField
from peewee import IntegerField

from portal.db import BaseModel
from portal.db import UTCDateTimeField
from portal.db import db


class SchemaVersion(BaseModel):
    component = CharField(max_length=100)
    version = IntegerField()
    applied_at = UTCDateTimeField()

    class Meta:
        indexes = ((("component", "version"), True),)


def applied_versions():
    """Return {component: highest applied version}."""
    db.create_tables([SchemaVersion], safe=True)
    versions = {}
    for row in SchemaVersion.select():
        versions[row.component] = max(versions.get(row.component, 0), row.version)
    return versions


def upgrade(plugins):
    """Apply every pending migration of every plugin in load order; return what ran."""
    ran = []
    current = applied_versions()
    for plugin in plugins:
        for number, migration in enumerate(plugin.migrations, start=1):
            if number <= current.get(plugin.name, 0):
                continue
            with db.atomic():
                migration(db)
                SchemaVersion.create(component=plugin.name, version=number, applied_at=datetime.now(timezone.utc))
            ran.append((plugin.name, number))
    return ran


def pending(plugins):
    """Return the (component, version) pairs not applied yet."""
    current = applied_versions()
    return [
        (plugin.name, number)
        for plugin in plugins
        for number in range(current.get(plugin.name, 0) + 1, len(plugin.migrations) + 1)
    ]


NEEDS_INIT = "the database needs upgrading first: run `weibao init`"


def pending_migrations(app):
    """The migrations `weibao init` would apply to *app*'s database; web and queue processes
    refuse to start while any are (migrations never run at a process's start, where several
    processes would race)."""
    with app.app_context():
        plugins = [plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()]
        waiting = pending(plugins)
        db.close()
    return waiting


def create_tables_migration(*models):
    """Return a migration that creates *models* (the usual first migration of a plugin)."""

    def create(database):
        database.create_tables(models)

    create.__doc__ = "Create " + ", ".join(model._meta.table_name for model in models)
    return create
