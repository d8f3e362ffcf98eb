"""The database: one peewee proxy, bound per app; pooled connections lent per request; IMMEDIATE
writes on SQLite."""

import os
from datetime import datetime
from datetime import timezone
from urllib.parse import urlparse

from flask import current_app
from peewee import AutoField
from peewee import CharField
from peewee import DatabaseProxy
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import PostgresqlDatabase
from peewee import SqliteDatabase
from peewee import TextField
from playhouse.db_url import connect as connect_url
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.pool import PooledSqliteDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # A writer waits up to 30 s for the IMMEDIATE lock: bursts of ticket creations queue, not fail.
    "busy_timeout": 30000,
    "synchronous": "normal",
    # Deleted patient identifiers must not linger in free pages of the file.
    "secure_delete": 1,
    "cache_size": -32000,
}

#: Connections are lent per request and kept open between requests. Opening one per request cost
#: more than a whole list page's queries: SQLite re-ran the pragmas, re-parsed the schema and lost
#: its 32 MB page cache every time; PostgreSQL paid a backend start-up. A request waits up to
#: ``timeout`` seconds for a free connection rather than failing; an idle one is recycled after
#: ``stale_timeout`` seconds. The cap bounds one process (waitress' 4 threads, the embedded
#: consumer's threads, the scheduler) well below PostgreSQL's default of 100 connections.
POOL = {"max_connections": 24, "stale_timeout": 300, "timeout": 30}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


#: Columns whose database value already is the Python value on SQLite and PostgreSQL alike.
PLAIN_COLUMNS = (AutoField, CharField, ForeignKeyField, IntegerField, TextField)


def read_raw(columns):
    """*columns*, those of a plain kind read without peewee's converter (ids, numbers, text; a
    link as its id): a converter per column and row (int(), str()) cost a fifth of a list page.
    Times and booleans keep theirs (SQLite stores text and 0/1)."""
    return tuple(column.coerce(False) if isinstance(column, PLAIN_COLUMNS) else column for column in columns)


def database_for(url, instance_path):
    """Build the peewee database for a WEIBAO_DATABASE_URL (None: instance/weibao.db)."""
    if not url:
        os.makedirs(instance_path, exist_ok=True)
        return _sqlite(os.path.join(instance_path, "weibao.db"))
    scheme = urlparse(url).scheme
    if scheme.startswith("sqlite"):
        path = url.split("://", 1)[1].lstrip("/") if "://" in url else url
        return _sqlite("/" + path if url.startswith("sqlite:////") else path)
    if scheme in ("postgres", "postgresql", "postgresext"):
        database = connect_url(url.replace("postgres://", "postgresql://", 1))
        return PooledPostgresqlDatabase(database.database, **POOL, **database.connect_params)
    raise ValueError(f"unsupported WEIBAO_DATABASE_URL scheme {scheme!r}; use sqlite or postgresql")


def _sqlite(path):
    # Every transaction begins IMMEDIATE: deferred read-then-write transactions failed 31-64%
    # with "database is locked" under several processes (DESIGN.md section 10); IMMEDIATE gave 0.
    # A pooled connection is lent to one thread at a time, but not always to the thread that opened it.
    return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False, **POOL)


def is_sqlite():
    """Tell whether the bound database is SQLite."""
    return isinstance(db.obj, SqliteDatabase)


def is_postgres():
    """Tell whether the bound database is PostgreSQL."""
    return isinstance(db.obj, PostgresqlDatabase)


def init_db(app):
    """Bind the proxy to this app's database and open/close a connection around each request."""
    database = database_for(app.config.get("DATABASE_URL"), app.instance_path)
    db.initialize(database)
    app.extensions["weibao"].database = database

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        if not db.is_closed() and not db.in_transaction():
            db.close()


def close_pool(database):
    """Really close every pooled connection of *database* (tests, restore, shutdown)."""
    if hasattr(database, "close_all"):
        database.close_all()


def bound_app_database():
    """Return the database bound to the current app (the proxy's target)."""
    return current_app.extensions["weibao"].database


class UTCDateTimeField(DateTimeField):
    """An aware datetime in Python, naive UTC in the database (the same on SQLite and PostgreSQL)."""

    def db_value(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        if isinstance(value, str):
            # SQLite's stored text, read straight (Python 3.11 reads "YYYY-MM-DD HH:MM:SS[.ffffff]"):
            # peewee's own path rewrites the string first: 13 % of an API list page.
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                value = super().python_value(value)
        else:
            value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
