"""Ticket numbers ``T2026-000123``: one counter row per year, incremented in the creating transaction.

``INSERT … ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last`` is one statement on
both SQLite (3.35+) and PostgreSQL. On SQLite the transaction is IMMEDIATE, so writers are
serialised before they read; on PostgreSQL the upsert locks the year's row until commit, so a
second creator waits and then sees the incremented value. A rolled-back creation rolls its
increment back too: numbers have no gaps and no duplicates.
"""

from portal.tickets.models import TicketSequence

NUMBER_FORMAT = "T{year:04d}-{n:06d}"


def next_number(year):
    """Take the next number of *year*; call inside the transaction that creates the ticket."""
    query = (TicketSequence
             .insert(year=year, last=1)
             .on_conflict(conflict_target=[TicketSequence.year],
                          update={TicketSequence.last: TicketSequence.last + 1})
             .returning(TicketSequence.last))
    rows = list(query.execute())
    last = rows[0][0] if isinstance(rows[0], tuple) else rows[0].last
    return NUMBER_FORMAT.format(year=year, n=last)
