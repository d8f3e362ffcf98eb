"""SLA arithmetic: targets, deadlines, pauses, elapsed time, warning levels."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.calendar import default_calendar
from portal.sla import (
    MAX_TARGET_MINUTES,
    Target,
    due_at,
    due_with_pauses,
    elapsed,
    elapsed_minutes,
    merge_pauses,
    progress,
    warning_level,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = default_calendar(years=[2025, 2026])
START = datetime(2026, 9, 30, 10, 0, tzinfo=SH)  # the DESIGN §4 worked example
P3_RESOLVE = Target(1620, "business")

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    database=None,  # the tree is shared: do not leave a .hypothesis/ directory behind
    suppress_health_check=[HealthCheck.too_slow],
)


def at(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=SH)


# ----- targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "clock", "message"),
    [
        (0, "business", "between 1 and"),
        (-5, "24x7", "between 1 and"),
        (MAX_TARGET_MINUTES + 1, "24x7", "between 1 and"),
        (1.5, "business", "integer"),
        (True, "business", "integer"),
        ("60", "business", "integer"),
        (60, "wall", "clock must be one of 24x7, business"),
        (60, "Business", "clock must be one of"),
    ],
)
def test_target_rejects_bad_input(minutes: object, clock: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Target(minutes, clock)  # type: ignore[arg-type]


def test_target_helpers() -> None:
    assert Target.working_days(3, CAL) == P3_RESOLVE
    assert Target.working_hours(4) == Target(240, "business")
    assert Target(MAX_TARGET_MINUTES, "24x7").minutes == MAX_TARGET_MINUTES


# ----- deadlines without pauses -------------------------------------------------------------------


def test_business_due_is_the_worked_example() -> None:
    assert due_at(CAL, START, P3_RESOLVE) == at(10, 10, 10, 0)


def test_24x7_due_is_wall_clock_and_ignores_holidays() -> None:
    due = due_at(CAL, START, Target(1620, "24x7"))
    assert due == at(10, 1, 13, 0)  # 27 hours later, in the middle of 国庆
    assert due.tzinfo is SH
    utc_start = START.astimezone(timezone.utc)
    assert due_at(CAL, utc_start, Target(1620, "24x7")) == due
    assert due_at(CAL, utc_start, Target(1620, "24x7")).tzinfo is SH


def test_business_due_from_outside_working_hours() -> None:
    # Created on the holiday: the clock starts Thu 8 Oct 08:30.
    assert due_at(CAL, at(10, 2, 15, 0), Target(60, "business")) == at(10, 8, 9, 30)


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(CAL, datetime(2026, 9, 30, 10), Target(60, "24x7"))
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(CAL, datetime(2026, 9, 30, 10), P3_RESOLVE)


# ----- pauses -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 30, 120, 450, 540, 1000])
def test_pausing_n_business_minutes_moves_the_due_by_n_business_minutes(n: int) -> None:
    unpaused = due_at(CAL, START, P3_RESOLVE)
    paused_at = START + timedelta(minutes=5)
    resumed_at = CAL.add_business_minutes(paused_at, n)
    assert CAL.business_minutes_between(paused_at, resumed_at) == n
    due = due_with_pauses(CAL, START, P3_RESOLVE, [(paused_at, resumed_at)])
    assert due == CAL.add_business_minutes(unpaused, n)
    assert CAL.business_minutes_between(unpaused, due) == n


def test_a_pause_over_the_holiday_only_costs_its_working_minutes() -> None:
    # Paused Wed 17:00 → resumed Thu 8 Oct 09:00: 30 + 30 working minutes, not 8 days.
    pauses = [(at(9, 30, 17, 0), at(10, 8, 9, 0))]
    assert due_with_pauses(CAL, START, P3_RESOLVE, pauses) == at(10, 10, 11, 0)


def test_a_pause_entirely_outside_working_hours_changes_nothing() -> None:
    pauses = [(at(10, 2, 9, 0), at(10, 5, 12, 0)), (at(10, 8, 18, 0), at(10, 9, 8, 0))]
    assert due_with_pauses(CAL, START, P3_RESOLVE, pauses) == at(10, 10, 10, 0)


def test_overlapping_pauses_are_not_counted_twice() -> None:
    overlapping = [
        (at(9, 30, 11, 0), at(9, 30, 13, 0)),
        (at(9, 30, 12, 0), at(9, 30, 14, 0)),  # overlaps the first
        (at(9, 30, 12, 30), at(9, 30, 12, 45)),  # nested
        (at(9, 30, 11, 0), at(9, 30, 13, 0)),  # duplicate
        (at(9, 30, 14, 0), at(9, 30, 14, 30)),  # touches the merged one
    ]
    assert merge_pauses(overlapping) == [(at(9, 30, 11, 0), at(9, 30, 14, 30))]
    due = due_with_pauses(CAL, START, P3_RESOLVE, overlapping)
    assert due == CAL.add_business_minutes(at(10, 10, 10, 0), 210)  # 11:00–14:30 once
    assert due == at(10, 10, 13, 30)
    shuffled = overlapping[:]
    random.Random(4).shuffle(shuffled)
    assert due_with_pauses(CAL, START, P3_RESOLVE, shuffled) == due


def test_24x7_pauses_move_the_due_by_wall_clock_time() -> None:
    target = Target(240, "24x7")
    pauses = [(at(9, 30, 11, 0), at(10, 2, 11, 0)), (at(10, 1, 0, 0), at(10, 1, 6, 0))]
    assert due_with_pauses(CAL, START, target, pauses) == at(10, 2, 14, 0)  # 4 h + 48 h
    assert elapsed_minutes(CAL, START, at(10, 2, 14, 0), "24x7", pauses) == 240


def test_an_open_pause_counts_up_to_now() -> None:
    pauses = [(at(9, 30, 11, 0), None)]
    now = at(9, 30, 12, 0)
    # As if resumed now: 60 business minutes so far.
    assert due_with_pauses(CAL, START, P3_RESOLVE, pauses, now=now) == at(10, 10, 11, 0)
    later = at(10, 8, 9, 0)  # still paused through the holiday: 390 + 30 minutes paused,
    # so the due moves 420 working minutes past 10:00 on Sat 10 Oct (an adjusted workday).
    assert due_with_pauses(CAL, START, P3_RESOLVE, pauses, now=later) == at(10, 10, 17, 0)
    assert elapsed_minutes(CAL, START, later, "business", pauses) == 60
    with pytest.raises(ValueError, match="needs `now`"):
        due_with_pauses(CAL, START, P3_RESOLVE, pauses)
    # An open pause that starts after `now` has not paused anything yet.
    future = [(at(9, 30, 15, 0), None)]
    assert merge_pauses(future, now=now) == []
    assert due_with_pauses(CAL, START, P3_RESOLVE, future, now=now) == at(10, 10, 10, 0)


def test_a_pause_after_the_breach_does_not_move_the_due() -> None:
    due = due_at(CAL, START, P3_RESOLVE)
    pauses = [(due + timedelta(hours=1), due + timedelta(days=3))]
    assert due_with_pauses(CAL, START, P3_RESOLVE, pauses) == due
    # A pause that straddles the deadline moves it by all of its paused working time.
    straddling = [(at(10, 10, 9, 0), at(10, 12, 9, 0))]  # 510 + 30 working minutes
    assert due_with_pauses(CAL, START, P3_RESOLVE, straddling) == at(10, 12, 10, 0)


def test_the_part_of_a_pause_before_the_start_is_ignored() -> None:
    pauses = [(at(9, 29, 9, 0), at(9, 30, 11, 0))]  # only 10:00–11:00 is after the start
    assert due_with_pauses(CAL, START, P3_RESOLVE, pauses) == at(10, 10, 11, 0)
    assert due_with_pauses(CAL, START, P3_RESOLVE, [(at(9, 1), at(9, 2))]) == at(10, 10, 10, 0)


def test_bad_pauses_are_rejected() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        merge_pauses([(at(9, 30, 12), at(9, 30, 11))])
    with pytest.raises(ValueError, match="timezone-aware"):
        merge_pauses([(datetime(2026, 9, 30, 11), at(9, 30, 12))])
    assert merge_pauses([(at(9, 30, 12), at(9, 30, 12))]) == []  # empty pause dropped


# ----- elapsed, progress, warnings ----------------------------------------------------------------


def test_elapsed_business_minutes() -> None:
    assert elapsed_minutes(CAL, START, at(10, 10, 10, 0), "business") == 1620
    assert elapsed_minutes(CAL, START, at(10, 8, 8, 30), "business") == 450
    assert elapsed_minutes(CAL, START, START - timedelta(hours=1), "business") == 0
    pauses = [(at(10, 8, 9, 0), at(10, 8, 10, 0))]
    assert elapsed_minutes(CAL, START, at(10, 10, 10, 0), "business", pauses) == 1560
    # A pause reaching beyond `now` is only counted up to `now`.
    assert elapsed_minutes(CAL, START, at(10, 8, 9, 30), "business", pauses) == 480
    with pytest.raises(ValueError, match="clock"):
        elapsed(CAL, START, at(10, 8), "wall")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spent", "level"),
    [(0, 0), (49, 0), (50, 50), (74, 50), (75, 75), (89, 75), (90, 90), (99, 90), (100, 100),
     (150, 100)],
)
def test_warning_levels_at_the_boundaries_24x7(spent: int, level: int) -> None:
    target = Target(100, "24x7")
    now = START + timedelta(minutes=spent)
    assert progress(CAL, START, now, target) == spent / 100
    assert warning_level(progress(CAL, START, now, target)) == level


@pytest.mark.parametrize(
    ("spent", "level"),
    [(809, 0), (810, 50), (1214, 50), (1215, 75), (1457, 75), (1458, 90), (1619, 90),
     (1620, 100)],
)
def test_warning_levels_at_the_boundaries_business(spent: int, level: int) -> None:
    now = CAL.add_business_minutes(START, spent)
    assert warning_level(progress(CAL, START, now, P3_RESOLVE)) == level


def test_one_second_before_the_deadline_is_not_yet_a_breach() -> None:
    due = due_at(CAL, START, P3_RESOLVE)
    assert warning_level(progress(CAL, START, due - timedelta(seconds=1), P3_RESOLVE)) == 90
    assert warning_level(progress(CAL, START, due, P3_RESOLVE)) == 100


@pytest.mark.parametrize(
    ("fraction", "level"),
    [(-0.1, 0), (0.0, 0), (0.4999, 0), (0.5, 50), (0.7499, 50), (0.75, 75), (0.8999999, 75),
     (0.9, 90), (0.9999, 90), (1.0, 100), (3.0, 100)],
)
def test_warning_level(fraction: float, level: int) -> None:
    assert warning_level(fraction) == level


def test_warning_level_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        warning_level(float("nan"))


# ----- properties ---------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 1), timezones=st.just(SH)
)
targets = st.builds(
    Target, st.integers(1, 540 * 15), st.sampled_from(["24x7", "business"])
)
pause_lists = st.lists(
    st.tuples(st.integers(-600, 30 * 24 * 60), st.integers(0, 5 * 24 * 60)), max_size=5
)


def _pauses(start: datetime, offsets: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
    return [
        (start + timedelta(minutes=o), start + timedelta(minutes=o + length))
        for o, length in offsets
    ]


@PROPERTIES
@given(starts, targets, pause_lists)
def test_property_the_due_is_where_unpaused_time_reaches_the_target(
    start: datetime, target: Target, offsets: list[tuple[int, int]]
) -> None:
    pauses = _pauses(start, offsets)
    due = due_with_pauses(CAL, start, target, pauses)
    assert due >= due_at(CAL, start, target)
    assert elapsed(CAL, start, due, target.clock, pauses) == timedelta(minutes=target.minutes)
    # And it is the first such instant.
    before = due - timedelta(microseconds=1)
    assert elapsed(CAL, start, before, target.clock, pauses) < timedelta(minutes=target.minutes)
    assert due_with_pauses(CAL, start, target, list(reversed(pauses))) == due


@PROPERTIES
@given(starts, targets, st.integers(0, 20_000), st.integers(0, 5_000))
def test_property_one_pause_moves_the_due_by_its_length_on_the_target_clock(
    start: datetime, target: Target, offset: int, length: int
) -> None:
    unpaused = due_at(CAL, start, target)
    paused_at = start + timedelta(minutes=offset)
    assume(paused_at < unpaused)
    resumed_at = paused_at + timedelta(minutes=length)
    due = due_with_pauses(CAL, start, target, [(paused_at, resumed_at)])
    if target.clock == "business":
        moved = CAL.business_time_between(unpaused, due)
        assert moved == CAL.business_time_between(paused_at, resumed_at)
    else:
        assert due - unpaused == resumed_at - paused_at
