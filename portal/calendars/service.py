"""The installation's business calendar built from the database, cached per app.

``current_calendar()`` is on hot paths (every ticket's SLA deadline), so the built
:class:`portal.calendar.BusinessCalendar` is kept in ``app.extensions["weibao"]``. Every edit
bumps ``CalendarSettings.version``; a process drops its copy at once after its own edits and
re-reads the version at most every few seconds to notice other processes' edits.
"""

import re
import time as clock
from datetime import date
from datetime import datetime
from datetime import time
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from flask import current_app
from flask import has_app_context

from portal.accounts.models import utcnow
from portal.calendar import BusinessCalendar
from portal.calendar import DayKind
from portal.calendar import DayRow
from portal.calendar import covered
from portal.calendar import official_days
from portal.calendars.models import CalendarDay
from portal.calendars.models import CalendarSettings
from portal.db import db

FIRST_OFFICIAL_YEAR = 2004  # chinese_calendar's first year
RECHECK_SECONDS = 5.0
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value):
    """Return a ``time`` from "HH:MM", or raise ValueError."""
    match = _HHMM.match(value or "")
    if not match:
        raise ValueError(f"not a time of day like 08:30: {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name):
    """Return the ZoneInfo called *name*, or raise ValueError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def settings():
    """Return the one CalendarSettings row, creating it with the defaults if missing."""
    row = CalendarSettings.select().order_by(CalendarSettings.id).first()
    if row is None:
        with db.atomic():
            row = CalendarSettings.create()
    return row


def official_years_in_range(last=None):
    """Years from 2004 to *last* (default: next year) that chinese_calendar covers."""
    last = last or date.today().year + 1
    return [year for year in range(FIRST_OFFICIAL_YEAR, last + 1) if covered(year)]


def seed_official(years=None):
    """Insert the official rows of *years* (default: every covered year); idempotent.

    Days that already have a row keep it: an admin's row is never overwritten, and an official
    row seeded earlier is refreshed only when the package's data for it changed.
    Returns the number of rows inserted or refreshed.
    """
    changed = 0
    with db.atomic():
        for year in years if years is not None else official_years_in_range():
            rows = official_days(year)
            if not rows:
                continue
            existing = {
                row.day: row
                for row in CalendarDay.select().where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
            }
            fresh = []
            for row in rows:
                stored = existing.get(row.day)
                if stored is None:
                    fresh.append({"day": row.day, "kind": row.kind.value, "name": row.name, "source": "official"})
                elif stored.source == "official" and (stored.kind, stored.name) != (row.kind.value, row.name):
                    stored.kind, stored.name = row.kind.value, row.name
                    stored.save()
                    changed += 1
            if fresh:
                CalendarDay.insert_many(fresh).on_conflict_ignore().execute()
                changed += len(fresh)
        if changed:
            bump_version()
    return changed


def bump_version():
    """Record that the calendar changed (call inside the edit's transaction) and drop this
    process's cached copy."""
    CalendarSettings.update(version=CalendarSettings.version + 1, updated_at=utcnow()).execute()
    invalidate()


def invalidate(app=None):
    """Forget this app's cached calendar."""
    if app is None and not has_app_context():
        return
    state = (app or current_app).extensions["weibao"]
    state.__dict__.pop("calendar_cache", None)


def _build():
    config = settings()
    rows = list(CalendarDay.select().order_by(CalendarDay.day))
    official = {row.day.year for row in rows if row.source == "official"}
    calendar = BusinessCalendar.from_rows(
        [DayRow(row.day, DayKind(row.kind), row.name) for row in rows],
        tz=zone(config.timezone),
        work_start=parse_hhmm(config.work_start),
        work_end=parse_hhmm(config.work_end),
        official_years=official,
    )
    return config.version, calendar


def _stored_version():
    row = CalendarSettings.select(CalendarSettings.version).order_by(CalendarSettings.id).first()
    return row.version if row else None


def current_calendar():
    """Return the installation's BusinessCalendar (cached per app; rebuilt after any edit)."""
    state = current_app.extensions["weibao"]
    cached = state.__dict__.get("calendar_cache")
    now = clock.monotonic()
    if cached is not None:
        version, calendar, checked = cached
        if now - checked < RECHECK_SECONDS:
            return calendar
        if _stored_version() == version:
            state.calendar_cache = (version, calendar, now)
            return calendar
    version, calendar = _build()
    missing = [year for year in official_years_in_range() if not calendar.covered(year)]
    if missing:
        # chinese_calendar was upgraded since the last seeding: take its new years in once.
        seed_official(missing)
        version, calendar = _build()
    state.calendar_cache = (version, calendar, now)
    return calendar


def uncovered_years(years):
    """The years among *years* with no official (State Council) data in the stored calendar."""
    calendar = current_calendar()
    return [year for year in years if not calendar.covered(year)]


def warning_years(today=None):
    """The current and next year when they lack official data (the admin banner's subject)."""
    calendar = current_calendar()
    today = today or datetime.now(calendar.tz).date()
    return uncovered_years([today.year, today.year + 1])


def seed_migration(database):
    """Migration: create the settings row and seed every covered year's official rows."""
    if not CalendarSettings.select().exists():
        CalendarSettings.create()
    seed_official()
