"""Business calendar: which days are worked, and arithmetic in working minutes.

Pure module: no Flask, no database. The day table is seeded from the ``chinese_calendar``
package (statutory holidays 放假 and adjusted working days 调休上班) and overlaid with rows an
admin entered; days with no row follow the ordinary rule (Mon–Fri worked, Sat/Sun not).

For a year ``chinese_calendar`` has no data for (the State Council publishes next year's
schedule each November) :func:`official_days` returns ``None`` and the calendar simply falls
back to weekends plus admin rows; :func:`covered` lets the UI show a warning instead of guessing.

Working minutes are wall-clock minutes in the calendar's time zone between ``work_start`` and
``work_end`` on working days. Working periods are half-open ``[work_start, work_end)`` when
asking "where does counting start", and a deadline that uses up a day's last minute is reported
as ``work_end`` of that day (not ``work_start`` of the next one).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "DEFAULT_TZ",
    "DEFAULT_WORK_END",
    "DEFAULT_WORK_START",
    "MAX_SCAN_DAYS",
    "BusinessCalendar",
    "DayKind",
    "DayRow",
    "HolidayBlock",
    "covered",
    "default_calendar",
    "merge_rows",
    "official_days",
]

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_WORK_START = time(8, 30)
DEFAULT_WORK_END = time(17, 30)
# A calendar whose table marks ten years in a row as non-working is a data error; stop looking
# for the next working day there instead of looping forever.
MAX_SCAN_DAYS = 3660

_ONE_DAY = timedelta(days=1)


class DayKind(enum.StrEnum):
    """What a calendar day is. Only ``holiday`` and ``adjusted_workday`` come from official data."""

    holiday = "holiday"  # 放假: statutory rest day, including the weekend days inside a block
    adjusted_workday = "adjusted_workday"  # 调休上班: a Saturday or Sunday that is worked
    workday = "workday"  # ordinary working day
    weekend = "weekend"  # ordinary rest day

    @property
    def is_working(self) -> bool:
        """Whether a day of this kind is worked."""
        return self in (DayKind.workday, DayKind.adjusted_workday)


@dataclass(frozen=True)
class DayRow:
    """One explicit row of the day table; ``name`` is the holiday's name (e.g. 春节), may be ''."""

    day: date
    kind: DayKind
    name: str = ""


@dataclass(frozen=True)
class HolidayBlock:
    """A run of consecutive non-working days containing at least one statutory holiday."""

    name: str
    first: date
    last: date

    @property
    def days(self) -> int:
        """Length of the block in calendar days, both ends included."""
        return (self.last - self.first).days + 1


@functools.lru_cache(maxsize=64)
def official_days(year: int) -> tuple[DayRow, ...] | None:
    """The official holiday and adjusted-workday rows of ``year``, sorted by day.

    Returns ``None`` when ``chinese_calendar`` has no data for the year (it raises
    ``NotImplementedError`` then). A tuple, not a dict, because the result is cached and shared.
    Names are Chinese (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆节); an adjusted working day
    carries the name of the holiday it makes up for.
    """
    day = date(year, 1, 1)
    try:
        chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    rows: list[DayRow] = []
    while day.year == year:
        is_rest, english = chinese_calendar.get_holiday_detail(day)
        # A name means the day is in the official tables; without one it is an ordinary day.
        if english is not None:
            kind = DayKind.holiday if is_rest else DayKind.adjusted_workday
            rows.append(DayRow(day, kind, _chinese_name(english)))
        day += _ONE_DAY
    return tuple(rows)


def _chinese_name(english: str) -> str:
    try:
        return chinese_calendar.Holiday(english).chinese
    except ValueError:  # a name a newer package version added; English beats nothing
        return english


def covered(year: int) -> bool:
    """Whether official (State Council) data exists for ``year`` in ``chinese_calendar``."""
    return official_days(year) is not None


def merge_rows(*layers: Iterable[DayRow]) -> dict[date, DayRow]:
    """Merge layers of rows into one table keyed by day; a later layer wins.

    Call as ``merge_rows(seeded_rows, admin_rows)`` so an admin's row replaces the seeded one.
    """
    merged: dict[date, DayRow] = {}
    for layer in layers:
        for row in layer:
            merged[row.day] = row
    return merged


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class BusinessCalendar:
    """Time zone + working hours + explicit day table.

    ``days`` holds only explicit rows (seeded and admin); any other day is a working day when it
    is Monday–Friday. ``names`` gives holiday names for ``holiday_blocks``. ``official_years``
    are the years whose official data was seeded into ``days`` (see :meth:`covered`).
    All datetime arguments must be timezone-aware; results are in ``tz``.
    """

    tz: tzinfo = DEFAULT_TZ
    work_start: time = DEFAULT_WORK_START
    work_end: time = DEFAULT_WORK_END
    days: Mapping[date, DayKind] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)
    official_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        tz = ZoneInfo(self.tz) if isinstance(self.tz, str) else self.tz
        if not isinstance(tz, tzinfo):
            raise ValueError(f"tz must be a time zone, got {self.tz!r}")
        for label, value in (("work_start", self.work_start), ("work_end", self.work_end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{label} must be a naive datetime.time, got {value!r}")
        if self.work_start >= self.work_end:
            raise ValueError(
                f"work_start {self.work_start} must be before work_end {self.work_end}"
            )
        # Coerce plain strings ("holiday") to DayKind so admin input can be passed straight in;
        # DayKind(...) raises ValueError for an unknown kind. Read-only copies keep the
        # frozen calendar really immutable even if the caller keeps mutating its dict.
        days = {d: DayKind(k) for d, k in self.days.items()}
        object.__setattr__(self, "tz", tz)
        object.__setattr__(self, "days", _frozen(days))
        object.__setattr__(self, "names", _frozen(self.names))
        object.__setattr__(self, "official_years", frozenset(self.official_years))

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[DayRow] | Mapping[date, DayRow],
        *,
        tz: tzinfo | str = DEFAULT_TZ,
        work_start: time = DEFAULT_WORK_START,
        work_end: time = DEFAULT_WORK_END,
        official_years: Iterable[int] = (),
    ) -> BusinessCalendar:
        """Build a calendar from rows (e.g. the result of :func:`merge_rows`)."""
        table = merge_rows(rows.values() if isinstance(rows, Mapping) else rows)
        return cls(
            tz=tz,
            work_start=work_start,
            work_end=work_end,
            days={d: r.kind for d, r in table.items()},
            names={d: r.name for d, r in table.items() if r.name},
            official_years=frozenset(official_years),
        )

    # ----- days -------------------------------------------------------------------------------

    def covered(self, year: int) -> bool:
        """Whether official data for ``year`` was seeded into this calendar."""
        return year in self.official_years

    def day_kind(self, d: date) -> DayKind:
        """The explicit kind of ``d``, or ``workday``/``weekend`` by the day of the week."""
        kind = self.days.get(d)
        if kind is not None:
            return kind
        return DayKind.workday if d.weekday() < 5 else DayKind.weekend

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is worked (ordinary weekday or adjusted working day, not a holiday)."""
        return self.day_kind(d).is_working

    @property
    def minutes_per_day(self) -> int:
        """Working minutes in one working day (540 for 08:30–17:30)."""
        start = self.work_start.hour * 60 + self.work_start.minute
        end = self.work_end.hour * 60 + self.work_end.minute
        return end - start

    def last_working_day_before(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        day = d - _ONE_DAY
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day -= _ONE_DAY
        raise ValueError(f"no working day in the {MAX_SCAN_DAYS} days before {d}")

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        day = d + _ONE_DAY
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day += _ONE_DAY
        raise ValueError(
            f"no working day in the {MAX_SCAN_DAYS} days after {d}; check the calendar's day table"
        )

    def holiday_blocks(self, year: int) -> list[HolidayBlock]:
        """Runs of non-working days that contain a statutory holiday and start in ``year``.

        Weekend days next to the holidays belong to the run. A run belongs to the year of its
        first day, so a New Year block starting on 31 Dec is listed once, under that year.
        The name joins the distinct holiday names in the run, e.g. ``中秋/国庆节``.
        """
        blocks: list[HolidayBlock] = []
        day, end = date(year, 1, 1), date(year, 12, 31)
        while day <= end:
            if self.is_working_day(day):
                day += _ONE_DAY
                continue
            first = day
            while not self.is_working_day(first - _ONE_DAY):  # only loops when 1 Jan is off
                first -= _ONE_DAY
                if (day - first).days > MAX_SCAN_DAYS:
                    raise ValueError(f"no working day in the {MAX_SCAN_DAYS} days before {day}")
            last = self.next_working_day(day) - _ONE_DAY
            names: list[str] = []
            has_holiday = False
            d = first
            while d <= last:
                if self.days.get(d) is DayKind.holiday:
                    has_holiday = True
                    name = self.names.get(d, "")
                    if name and name not in names:
                        names.append(name)
                d += _ONE_DAY
            if has_holiday and first.year == year:
                blocks.append(HolidayBlock("/".join(names), first, last))
            day = last + _ONE_DAY
        return blocks

    def pre_holiday_inspections(
        self, year: int, longer_than: int = 3
    ) -> list[tuple[date, HolidayBlock]]:
        """(inspection day, block) for every holiday block of ``year`` longer than ``longer_than``
        days; the inspection day is the last working day before the block (seed 001)."""
        return [
            (self.last_working_day_before(b.first), b)
            for b in self.holiday_blocks(year)
            if b.days > longer_than
        ]

    # ----- instants ---------------------------------------------------------------------------

    def _local(self, moment: datetime, label: str = "datetime") -> datetime:
        if not isinstance(moment, datetime):
            raise ValueError(f"{label} must be a datetime, got {type(moment).__name__}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{label} must be timezone-aware, got naive {moment.isoformat()}")
        return moment.astimezone(self.tz)

    def _bounds(self, d: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(d, self.work_start, tzinfo=self.tz),
            datetime.combine(d, self.work_end, tzinfo=self.tz),
        )

    def next_working_instant(self, moment: datetime) -> datetime:
        """``moment`` itself if it lies in a working period ``[work_start, work_end)`` of a
        working day, else the start of the next working period."""
        local = self._local(moment)
        d = local.date()
        if self.is_working_day(d):
            start, end = self._bounds(d)
            if local < start:
                return start
            if local < end:
                return local
        return self._bounds(self.next_working_day(d))[0]

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of working time has elapsed since ``start``.

        A start outside working hours begins counting at the next working period; a zero
        amount returns that instant. For a positive amount the result lies in
        ``(work_start, work_end]`` of a working day. Walks day by day, never minute by minute.
        """
        if not isinstance(amount, timedelta):
            raise ValueError(f"amount must be a timedelta, got {type(amount).__name__}")
        if amount < timedelta(0):
            raise ValueError(f"amount must not be negative, got {amount}")
        current = self.next_working_instant(self._local(start, "start"))
        remaining = amount
        while remaining:
            day_end = self._bounds(current.date())[1]
            available = day_end - current  # same tzinfo: a wall-clock difference
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self._bounds(self.next_working_day(current.date()))[0]
        return current

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """``start`` plus ``minutes`` working minutes (see :meth:`add_business_time`)."""
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise ValueError(f"minutes must be an int, got {minutes!r}")
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes}")
        return self.add_business_time(start, timedelta(minutes=minutes))

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside ``[a, b)``; zero when ``b <= a``."""
        a, b = self._local(a, "a"), self._local(b, "b")
        total = timedelta(0)
        if b <= a:
            return total
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                start, end = self._bounds(day)
                low, high = max(a, start), min(b, end)
                if high > low:
                    total += high - low
            day += _ONE_DAY
        return total

    def business_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole working minutes inside ``[a, b)`` (seconds are truncated); 0 when ``b <= a``.

        The inverse of :meth:`add_business_minutes`:
        ``business_minutes_between(s, add_business_minutes(s, m)) == m``.
        """
        return self.business_time_between(a, b) // timedelta(minutes=1)


def default_calendar(
    extra_rows: Iterable[DayRow] | None = None,
    years: Iterable[int] | None = None,
    *,
    tz: tzinfo | str = DEFAULT_TZ,
    work_start: time = DEFAULT_WORK_START,
    work_end: time = DEFAULT_WORK_END,
) -> BusinessCalendar:
    """A calendar seeded with the official rows of ``years`` plus ``extra_rows`` (admin rows,
    which win over official ones).

    ``years`` defaults to five years back to one year ahead of the current year in ``tz``;
    years ``chinese_calendar`` does not cover are skipped (weekend fallback), and the calendar's
    ``official_years`` records which ones were seeded.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if years is None:
        this_year = datetime.now(zone).year
        years = range(this_year - 5, this_year + 2)
    seeded: list[DayRow] = []
    official: list[int] = []
    for year in years:
        rows = official_days(year)
        if rows is not None:
            seeded.extend(rows)
            official.append(year)
    return BusinessCalendar.from_rows(
        merge_rows(seeded, extra_rows or ()),
        tz=zone,
        work_start=work_start,
        work_end=work_end,
        official_years=official,
    )
