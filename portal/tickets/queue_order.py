"""The engineer queue's order: open tickets, nearest deadline first (the response deadline while a
ticket is new, the resolution deadline after), then by id; tickets without a deadline last.

Partial indexes in exactly this order, over open tickets only, let the queue read its 50 rows in
order. Without them every open ticket of the scope was read and sorted on each view (~7,500 at 1M
tickets). The condition and the sort key are written with literal values, not bound parameters:
SQLite uses a partial expression index only for a query whose terms read the same as the index's
definition, and a ``?`` never reads the same as ``'new'``.
"""

from peewee import SQL
from peewee import Case

from portal.db import is_postgres
from portal.tickets.models import OPEN_STATUSES
from portal.tickets.models import Ticket

OPEN_LIST_SQL = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"
NEAREST_SQL = "CASE WHEN status = 'new' THEN response_due ELSE resolve_due END"
#: (index name suffix, the scope column leading it): a vendor's staff and a hospital's IT. An admin's
#: unscoped queue has none: SQLite's planner preferred the status index to one and sorted anyway.
SCOPES = (("vendor", "vendor_id"), ("hospital", "hospital_id"))


def open_tickets():
    """The condition "the ticket is open", as the indexes read it."""
    return Ticket.status.in_(SQL(OPEN_LIST_SQL))


def nearest_deadline():
    """The sort key, as the indexes read it (ascending, NULLs last)."""
    return Case(None, [(Ticket.status == SQL("'new'"), Ticket.response_due)], Ticket.resolve_due)


def create_indexes(database=None):
    """The migration: one partial index per scope (idempotent)."""
    nulls_last = " NULLS LAST" if is_postgres() else ""  # SQLite walks an index NULLs-last by itself
    for name, lead in SCOPES:
        (database or Ticket._meta.database).execute_sql(
            f"CREATE INDEX IF NOT EXISTS ticket_queue_{name} ON ticket"
            f" ({lead}, ({NEAREST_SQL}){nulls_last}, id) WHERE status IN {OPEN_LIST_SQL}")
