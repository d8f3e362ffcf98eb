"""Report periods in the installation's time zone, as half-open UTC ranges, and parameter parsing.

A ticket belongs to the period containing its ``reported_at`` read in the calendar's zone
(API.md: a ticket belongs to the year of its reported_at). Weeks run Monday–Sunday.
"""

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone

from flask_babel import gettext as _

from portal.calendars.service import current_calendar

MIN_YEAR, MAX_YEAR = 2000, 2199


class BadParameter(ValueError):
    """A report parameter is malformed or out of range; the message is for the user."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    kind: str  # year | quarter | month | week
    first: date  # first local day
    last: date  # last local day
    low: datetime  # UTC, inclusive
    high: datetime  # UTC, exclusive

    @property
    def year(self):
        return self.first.year

    def label(self):
        if self.kind == "year":
            return str(self.first.year)
        if self.kind == "quarter":
            return f"{self.first.year} Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{self.first.year}-{self.first.month:02d}"
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def _utc(day):
    return datetime.combine(day, time(0), tzinfo=current_calendar().tz).astimezone(timezone.utc)


def make(kind, first, after):
    return Period(kind, first, after - timedelta(days=1), _utc(first), _utc(after))


def year_period(year):
    return make("year", date(year, 1, 1), date(year + 1, 1, 1))


def month_period(year, month):
    return make("month", date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1))


def quarter_period(year, quarter):
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return make("quarter", first, after)


def week_period(day):
    monday = day - timedelta(days=day.weekday())
    return make("week", monday, monday + timedelta(days=7))


def today():
    return datetime.now(current_calendar().tz).date()


def parse_int(args, name, low, high, default):
    """Read an integer query parameter; BadParameter with a message when it is not one in range."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if len(raw) > 6 or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(name, _("%(name)s must be a whole number from %(low)d to %(high)d.",
                                   name=name, low=low, high=high))
    return int(raw)


def parse_year(args, default=None):
    return parse_int(args, "year", MIN_YEAR, MAX_YEAR, default or today().year)


def parse_month(args):
    now = today()
    year = parse_year(args, now.year)
    month = parse_int(args, "month", 1, 12, now.month)
    return month_period(year, month)


def parse_quarter(args):
    now = today()
    year = parse_year(args, now.year)
    quarter = parse_int(args, "quarter", 1, 4, (now.month - 1) // 3 + 1)
    return quarter_period(year, quarter)


def parse_week(args):
    raw = args.get("week")
    if raw in (None, ""):
        return week_period(today())
    try:
        if len(raw) != 10:
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadParameter("week", _("week must be a date like 2026-03-02.")) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise BadParameter("week", _("week must be a date like 2026-03-02."))
    return week_period(day)
