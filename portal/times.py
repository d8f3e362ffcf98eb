"""Stored times as pages and the API show them, in the installation's time zone.

Times are stored as naive UTC (portal.db.UTCDateTimeField). The lists read them as stored and show
them through here, where each stored value's text is kept: parsing and converting 100-550 times a
page cost 8 % of the admin ticket list and 25 % of the API ticket list, and the same first pages
are opened again and again. A stored time never changes what it shows.
"""

from datetime import timezone
from functools import lru_cache

from portal.db import UTCDateTimeField

#: How many stored times each kept conversion holds (a few MB): the pages people keep opening.
STORED_TIMES_KEPT = 8192
#: Reads a time column's stored value (SQLite's text, PostgreSQL's naive UTC) as the models do.
STORED_TIME = UTCDateTimeField()


def local_in(value, zone):
    """*value* (stored UTC) as "YYYY-MM-DD HH:MM" in *zone*; lists look the zone up once per page."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(zone).isoformat(" ", "minutes")[:16]  # strftime took twice as long


@lru_cache(maxsize=STORED_TIMES_KEPT)
def stored_local(stored, zone):
    """A time column's value as the database returns it (or as a model holds it), as ``local_in``
    shows it."""
    return local_in(STORED_TIME.python_value(stored), zone)


@lru_cache(maxsize=STORED_TIMES_KEPT)
def stored_iso(stored, zone):
    """The same as ISO 8601 in *zone*, to the microsecond, as the API writes times."""
    return STORED_TIME.python_value(stored).astimezone(zone).isoformat()
