"""SLA arithmetic: deadlines, pauses, elapsed time and warning levels.

Pure functions over aware datetimes and a :class:`portal.calendar.BusinessCalendar`; nothing
here reads the clock or the database, so callers pass ``now`` explicitly.

Two clocks exist (DESIGN §4): ``24x7`` counts real elapsed minutes, ``business`` counts only
working minutes of the calendar. A pause (``waiting_customer``/``waiting_authorization``) stops
the clock: the deadline is the first instant at which the un-paused time reaches the target.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from portal.calendar import BusinessCalendar

__all__ = [
    "CLOCKS",
    "MAX_TARGET_MINUTES",
    "WARNING_LEVELS",
    "Clock",
    "Pause",
    "Target",
    "due_at",
    "due_with_pauses",
    "elapsed",
    "elapsed_minutes",
    "merge_pauses",
    "progress",
    "warning_level",
]

Clock = Literal["24x7", "business"]
CLOCKS: tuple[str, ...] = ("24x7", "business")
# Ten years of wall-clock minutes: far beyond any real SLA, small enough to stay fast.
MAX_TARGET_MINUTES = 10 * 366 * 24 * 60
# Reported levels, in percent of the target consumed; 100 means breached.
WARNING_LEVELS: tuple[int, ...] = (50, 75, 90, 100)

Pause = tuple[datetime, datetime | None]
"""``(paused_at, resumed_at)``; ``resumed_at`` is ``None`` while the ticket is still paused."""


@dataclass(frozen=True)
class Target:
    """An SLA target: ``minutes`` on ``clock`` ("24x7" wall clock or "business" minutes)."""

    minutes: int
    clock: Clock

    def __post_init__(self) -> None:
        if isinstance(self.minutes, bool) or not isinstance(self.minutes, int):
            raise ValueError(f"SLA target minutes must be an integer, got {self.minutes!r}")
        if not 0 < self.minutes <= MAX_TARGET_MINUTES:
            raise ValueError(
                f"SLA target minutes must be between 1 and {MAX_TARGET_MINUTES}, "
                f"got {self.minutes}"
            )
        if self.clock not in CLOCKS:
            raise ValueError(
                f"SLA clock must be one of {', '.join(CLOCKS)}, got {self.clock!r}"
            )

    @classmethod
    def working_days(cls, days: int, calendar: BusinessCalendar) -> Target:
        """"N working days" = N × the calendar's working minutes per day, business clock."""
        return cls(days * calendar.minutes_per_day, "business")

    @classmethod
    def working_hours(cls, hours: int) -> Target:
        """"N working hours" = N × 60 business minutes."""
        return cls(hours * 60, "business")


def _aware(moment: datetime, label: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError(f"{label} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{label} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def _check_clock(clock: str) -> None:
    if clock not in CLOCKS:
        raise ValueError(f"SLA clock must be one of {', '.join(CLOCKS)}, got {clock!r}")


def _add(calendar: BusinessCalendar, start: datetime, amount: timedelta, clock: str) -> datetime:
    if clock == "business":
        return calendar.add_business_time(start, amount)
    # Real elapsed time: add in UTC so a DST change in the calendar's zone cannot skew it.
    utc = _aware(start, "start").astimezone(timezone.utc)
    return (utc + amount).astimezone(calendar.tz)


def _measure(calendar: BusinessCalendar, a: datetime, b: datetime, clock: str) -> timedelta:
    if clock == "business":
        return calendar.business_time_between(a, b)
    # Real elapsed time: subtract in UTC (same-zone aware datetimes subtract as wall clock).
    return max(b.astimezone(timezone.utc) - a.astimezone(timezone.utc), timedelta(0))


def due_at(calendar: BusinessCalendar, start: datetime, target: Target) -> datetime:
    """The deadline without pauses: ``start`` + ``target.minutes`` on the target's clock.

    24x7: real elapsed minutes. Business: working minutes, so a start outside working hours
    begins at the next working period. The result is in the calendar's time zone.
    """
    return _add(calendar, start, timedelta(minutes=target.minutes), target.clock)


def merge_pauses(
    pauses: Iterable[Pause], now: datetime | None = None
) -> list[tuple[datetime, datetime]]:
    """Close open pauses at ``now``, drop empty ones, and merge overlapping or touching ones.

    Returns sorted, disjoint ``(paused_at, resumed_at)`` intervals, so no instant is counted
    twice. Raises ``ValueError`` for an open pause without ``now``, for a pause that resumes
    before it starts, and for naive datetimes.
    """
    if now is not None:
        _aware(now, "now")
    closed: list[tuple[datetime, datetime]] = []
    for paused_at, resumed_at in pauses:
        _aware(paused_at, "paused_at")
        if resumed_at is None:
            if now is None:
                raise ValueError("an open pause (resumed_at None) needs `now` to be measured")
            # Paused after `now` (clock skew, future data): nothing has been paused yet.
            resumed_at = max(now, paused_at)
        _aware(resumed_at, "resumed_at")
        if resumed_at < paused_at:
            raise ValueError(f"pause resumes ({resumed_at}) before it starts ({paused_at})")
        if resumed_at > paused_at:
            closed.append((paused_at, resumed_at))
    closed.sort()
    merged: list[tuple[datetime, datetime]] = []
    for paused_at, resumed_at in closed:
        if merged and paused_at <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], resumed_at))
        else:
            merged.append((paused_at, resumed_at))
    return merged


def due_with_pauses(
    calendar: BusinessCalendar,
    start: datetime,
    target: Target,
    pauses: Iterable[Pause],
    now: datetime | None = None,
) -> datetime:
    """The deadline once pauses are taken out: the first instant at which the un-paused time
    since ``start``, on the target's clock, reaches the target.

    Each pause that begins before the (running) deadline moves it later by exactly the paused
    time measured on the target's clock (business minutes or wall minutes); a pause that begins
    after the deadline has passed changes nothing — the ticket was already breached. Overlapping
    pauses are merged first, and the part of a pause before ``start`` is ignored.

    An open pause counts up to ``now``: the result is the deadline *as if the ticket resumed at
    ``now``*. While the ticket stays paused that value keeps moving; recompute it on resume.
    """
    _aware(start, "start")
    due = due_at(calendar, start, target)
    for paused_at, resumed_at in merge_pauses(pauses, now):
        if resumed_at <= start:
            continue
        if paused_at >= due:
            break  # pauses are sorted: every later one also starts after the deadline
        paused = _measure(calendar, max(paused_at, start), resumed_at, target.clock)
        due = _add(calendar, due, paused, target.clock)
    return due


def elapsed(
    calendar: BusinessCalendar,
    start: datetime,
    now: datetime,
    clock: Clock,
    pauses: Iterable[Pause] = (),
) -> timedelta:
    """Time counted against the SLA in ``[start, now)`` on ``clock``, pauses excluded.

    Open pauses count up to ``now``; zero when ``now <= start``.
    """
    _check_clock(clock)
    _aware(start, "start")
    _aware(now, "now")
    if now <= start:
        return timedelta(0)
    total = _measure(calendar, start, now, clock)
    for paused_at, resumed_at in merge_pauses(pauses, now):
        # Only the part of a pause inside [start, now) was ever on the clock.
        low, high = max(paused_at, start), min(resumed_at, now)
        if high > low:
            total -= _measure(calendar, low, high, clock)
    return total


def elapsed_minutes(
    calendar: BusinessCalendar,
    start: datetime,
    now: datetime,
    clock: Clock,
    pauses: Iterable[Pause] = (),
) -> int:
    """Whole minutes counted against the SLA (see :func:`elapsed`), seconds truncated."""
    return elapsed(calendar, start, now, clock, pauses) // timedelta(minutes=1)


def progress(
    calendar: BusinessCalendar,
    start: datetime,
    now: datetime,
    target: Target,
    pauses: Iterable[Pause] = (),
) -> float:
    """Fraction of ``target`` consumed at ``now`` (0.0 at start, 1.0 at the deadline, may
    exceed 1.0 after a breach)."""
    spent = elapsed(calendar, start, now, target.clock, pauses)
    # Integer microseconds / integer microseconds is correctly rounded, so exact boundaries
    # such as 90% come out as the float 0.9 and compare equal to the thresholds.
    return (spent // timedelta(microseconds=1)) / (target.minutes * 60_000_000)


def warning_level(fraction: float) -> int:
    """The highest level in 0, 50, 75, 90, 100 that ``fraction`` has reached.

    Each level is reached at its boundary: 0.5 → 50, 0.75 → 75, 0.9 → 90, and 1.0 (or more)
    → 100, which means breached.
    """
    if math.isnan(fraction):
        raise ValueError("fraction must be a number, got NaN")
    reached = [level for level in WARNING_LEVELS if fraction >= level / 100]
    return reached[-1] if reached else 0
