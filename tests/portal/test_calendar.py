"""Business calendar: official data, working-minute arithmetic, fallback years, properties."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.calendar import (
    MAX_SCAN_DAYS,
    BusinessCalendar,
    DayKind,
    DayRow,
    HolidayBlock,
    covered,
    default_calendar,
    merge_rows,
    official_days,
)

SH = ZoneInfo("Asia/Shanghai")
# 2025 is seeded too so that 31 Dec 2025 (before 元旦 2026) is judged with official data.
CAL = default_calendar(years=[2025, 2026])

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    database=None,  # the tree is shared: do not leave a .hypothesis/ directory behind
    suppress_health_check=[HealthCheck.too_slow],
)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# ----- the official 2026 data, written out so it cannot shift silently -------------------------

HOLIDAY_BLOCKS_2026 = [
    # (name, first, last, last working day before, first working day after)
    ("元旦", date(2026, 1, 1), date(2026, 1, 3), date(2025, 12, 31), date(2026, 1, 4)),
    ("春节", date(2026, 2, 15), date(2026, 2, 23), date(2026, 2, 14), date(2026, 2, 24)),
    ("清明", date(2026, 4, 4), date(2026, 4, 6), date(2026, 4, 3), date(2026, 4, 7)),
    ("劳动节", date(2026, 5, 1), date(2026, 5, 5), date(2026, 4, 30), date(2026, 5, 6)),
    ("端午", date(2026, 6, 19), date(2026, 6, 21), date(2026, 6, 18), date(2026, 6, 22)),
    # 中秋 2026 (25 Sep) is its own block; it is NOT part of the 1–7 Oct 国庆 holiday.
    ("中秋", date(2026, 9, 25), date(2026, 9, 27), date(2026, 9, 24), date(2026, 9, 28)),
    ("国庆节", date(2026, 10, 1), date(2026, 10, 7), date(2026, 9, 30), date(2026, 10, 8)),
]

ADJUSTED_WORKDAYS_2026 = [
    (date(2026, 1, 4), "元旦"),  # Sunday
    (date(2026, 2, 14), "春节"),  # Saturday
    (date(2026, 2, 28), "春节"),  # Saturday
    (date(2026, 5, 9), "劳动节"),  # Saturday
    (date(2026, 9, 20), "国庆节"),  # Sunday
    (date(2026, 10, 10), "国庆节"),  # Saturday
]


def test_official_2026_holidays_match_the_written_list() -> None:
    rows = official_days(2026)
    assert rows is not None
    holidays = [(r.day, r.name) for r in rows if r.kind is DayKind.holiday]
    expected = [
        (d, name) for name, first, last, _, _ in HOLIDAY_BLOCKS_2026 for d in day_range(first, last)
    ]
    assert holidays == expected
    # Cross-check with the package's own predicate, day by day.
    for d, _ in holidays:
        assert chinese_calendar.is_holiday(d)


def test_official_2026_adjusted_workdays_match_the_written_list() -> None:
    rows = official_days(2026)
    assert rows is not None
    derived = [(r.day, r.name) for r in rows if r.kind is DayKind.adjusted_workday]
    # Derived independently from chinese_calendar: worked days that fall on a weekend.
    from_package = [
        d for d in day_range(date(2026, 1, 1), date(2026, 12, 31))
        if d.weekday() >= 5 and chinese_calendar.is_workday(d)
    ]
    assert derived == ADJUSTED_WORKDAYS_2026
    assert [d for d, _ in derived] == from_package
    assert all(d.weekday() >= 5 for d, _ in derived)


def test_official_rows_only_hold_holidays_and_adjusted_days() -> None:
    rows = official_days(2026)
    assert rows is not None
    assert {r.kind for r in rows} == {DayKind.holiday, DayKind.adjusted_workday}
    assert len(rows) == 33 + 6
    assert official_days(2026) is rows  # cached per year


def test_holiday_blocks_2026() -> None:
    assert CAL.holiday_blocks(2026) == [
        HolidayBlock(name, first, last) for name, first, last, _, _ in HOLIDAY_BLOCKS_2026
    ]
    assert [b.days for b in CAL.holiday_blocks(2026)] == [3, 9, 3, 5, 3, 3, 7]


def test_pre_holiday_inspections_for_blocks_longer_than_three_days() -> None:
    inspections = [(d, b.name) for d, b in CAL.pre_holiday_inspections(2026)]
    assert inspections == [
        (date(2026, 2, 14), "春节"),  # an adjusted Saturday is the last working day
        (date(2026, 4, 30), "劳动节"),
        (date(2026, 9, 30), "国庆节"),
    ]


def test_a_block_belongs_to_the_year_of_its_first_day() -> None:
    cal = default_calendar(years=[2023, 2024])
    last_2023 = cal.holiday_blocks(2023)[-1]
    assert last_2023 == HolidayBlock("元旦", date(2023, 12, 30), date(2024, 1, 1))
    assert cal.holiday_blocks(2024)[0].name == "春节"
    # 中秋 and 国庆 2023 form one block whose name joins both.
    assert HolidayBlock("中秋/国庆节", date(2023, 9, 29), date(2023, 10, 6)) in (
        cal.holiday_blocks(2023)
    )


# ----- worked examples ---------------------------------------------------------------------------


def test_worked_example_p3_resolve_across_national_day() -> None:
    start = at(2026, 9, 30, 10, 0)
    due = CAL.add_business_minutes(start, 3 * CAL.minutes_per_day)
    assert CAL.minutes_per_day == 540
    assert due == at(2026, 10, 10, 10, 0)
    assert due.isoformat() == "2026-10-10T10:00:00+08:00"
    assert CAL.business_minutes_between(start, due) == 1620
    # The pieces of the example: 450 on Wed, nothing 1–7 Oct, 540 + 540, then 90 on Sat.
    assert CAL.business_minutes_between(start, at(2026, 10, 8)) == 450
    assert CAL.business_minutes_between(at(2026, 10, 1), at(2026, 10, 8)) == 0
    assert CAL.business_minutes_between(at(2026, 10, 8), at(2026, 10, 10)) == 1080


@pytest.mark.parametrize(
    ("name", "first", "last", "before", "after"),
    HOLIDAY_BLOCKS_2026,
    ids=[b[0] for b in HOLIDAY_BLOCKS_2026],
)
def test_every_2026_holiday_is_skipped(
    name: str, first: date, last: date, before: date, after: date
) -> None:
    for d in day_range(first, last):
        assert not CAL.is_working_day(d)
        assert CAL.day_kind(d) is DayKind.holiday or d.weekday() >= 5
    assert CAL.is_working_day(before) and CAL.is_working_day(after)
    assert CAL.last_working_day_before(first) == before
    # 30 minutes before closing on the last working day, 60 minutes to go:
    # 30 that evening, the other 30 on the first working day after the block.
    start = datetime.combine(before, time(17, 0), tzinfo=SH)
    assert CAL.add_business_minutes(start, 60) == datetime.combine(after, time(9, 0), tzinfo=SH)
    # Starting inside the block counts from the first working morning after it.
    inside = datetime.combine(first, time(10, 0), tzinfo=SH)
    assert CAL.add_business_minutes(inside, 0) == datetime.combine(after, time(8, 30), tzinfo=SH)
    assert CAL.business_minutes_between(
        datetime.combine(first, time(0), tzinfo=SH),
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=SH),
    ) == 0


@pytest.mark.parametrize(
    ("day", "name"), ADJUSTED_WORKDAYS_2026, ids=[str(d) for d, _ in ADJUSTED_WORKDAYS_2026]
)
def test_every_2026_adjusted_workday_is_counted(day: date, name: str) -> None:
    assert CAL.day_kind(day) is DayKind.adjusted_workday
    assert CAL.names[day] == name
    assert CAL.is_working_day(day)
    midnight = datetime.combine(day, time(0), tzinfo=SH)
    assert CAL.add_business_minutes(midnight, 60) == datetime.combine(day, time(9, 30), tzinfo=SH)
    assert CAL.business_minutes_between(midnight, midnight + timedelta(days=1)) == 540
    # Without the official rows the same weekend day is not worked.
    assert not BusinessCalendar().is_working_day(day)


def test_adjusted_saturday_is_the_last_working_day_before_a_monday() -> None:
    # 28 Feb 2026 is an adjusted Saturday, so it, not Fri 27 Feb, precedes Mon 2 Mar.
    assert CAL.last_working_day_before(date(2026, 3, 2)) == date(2026, 2, 28)
    assert CAL.next_working_day(date(2026, 2, 27)) == date(2026, 2, 28)


# ----- starts outside working hours and edges ---------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (at(2026, 3, 10, 22, 0), 1, at(2026, 3, 11, 8, 31)),  # Tue night
        (at(2026, 3, 10, 7, 0), 0, at(2026, 3, 10, 8, 30)),  # early morning, zero minutes
        (at(2026, 3, 10, 7, 0), 30, at(2026, 3, 10, 9, 0)),
        (at(2026, 3, 14, 12, 0), 30, at(2026, 3, 16, 9, 0)),  # Saturday
        (at(2026, 10, 3, 12, 0), 0, at(2026, 10, 8, 8, 30)),  # inside 国庆
        (at(2026, 3, 10, 17, 30), 0, at(2026, 3, 11, 8, 30)),  # exactly closing time
        (at(2026, 3, 10, 17, 30), 1, at(2026, 3, 11, 8, 31)),
        (at(2026, 3, 13, 17, 30), 0, at(2026, 3, 16, 8, 30)),  # Friday closing → Monday
        (at(2026, 3, 10, 8, 30), 0, at(2026, 3, 10, 8, 30)),  # exactly opening time
        (at(2026, 3, 10, 8, 30), 540, at(2026, 3, 10, 17, 30)),  # a whole day ends at 17:30
        (at(2026, 3, 10, 8, 30), 541, at(2026, 3, 11, 8, 31)),
        (at(2026, 3, 10, 17, 29), 1, at(2026, 3, 10, 17, 30)),
        (at(2026, 3, 10, 10, 0, 30), 1, at(2026, 3, 10, 10, 1, 30)),  # seconds are kept
        (at(2026, 3, 10, 12, 0), 0, at(2026, 3, 10, 12, 0)),
    ],
)
def test_starts_and_edges(start: datetime, minutes: int, due: datetime) -> None:
    assert CAL.add_business_minutes(start, minutes) == due


def test_business_minutes_between_edges() -> None:
    assert CAL.business_minutes_between(at(2026, 3, 10, 12), at(2026, 3, 10, 11)) == 0
    assert CAL.business_minutes_between(at(2026, 3, 10, 12), at(2026, 3, 10, 12)) == 0
    assert CAL.business_minutes_between(at(2026, 3, 10, 17, 30), at(2026, 3, 11, 8, 30)) == 0
    assert CAL.business_minutes_between(at(2026, 3, 9), at(2026, 3, 16)) == 5 * 540
    # Seconds are truncated to whole minutes.
    assert CAL.business_minutes_between(at(2026, 3, 10, 9, 0, 0), at(2026, 3, 10, 9, 1, 59)) == 1
    assert CAL.business_time_between(at(2026, 3, 10, 9), at(2026, 3, 10, 9, 1, 59)) == timedelta(
        seconds=119
    )


# ----- time zones --------------------------------------------------------------------------------


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_business_minutes(datetime(2026, 9, 30, 10), 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.business_minutes_between(datetime(2026, 9, 30, 10), at(2026, 10, 1))


def test_other_zones_are_converted_and_results_are_in_the_calendar_zone() -> None:
    start_utc = datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc)  # = 10:00 in Shanghai
    due = CAL.add_business_minutes(start_utc, 1620)
    assert due == at(2026, 10, 10, 10, 0)
    assert due.tzinfo is SH
    # 23:00 UTC on Friday is 07:00 Saturday in Shanghai: not a working day there.
    friday_night_utc = datetime(2026, 3, 13, 23, 0, tzinfo=timezone.utc)
    assert CAL.add_business_minutes(friday_night_utc, 0) == at(2026, 3, 16, 8, 30)


def test_bad_inputs_are_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_minutes(at(2026, 3, 10, 9), -1)
    with pytest.raises(ValueError, match="int"):
        CAL.add_business_minutes(at(2026, 3, 10, 9), 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="before work_end"):
        BusinessCalendar(work_start=time(17, 30), work_end=time(8, 30))
    with pytest.raises(ValueError):
        BusinessCalendar(days={date(2026, 1, 1): "party"})  # type: ignore[dict-item]


def test_custom_hours_zone_and_string_kinds() -> None:
    cal = BusinessCalendar(
        tz="Europe/Berlin",
        work_start=time(9),
        work_end=time(12),
        days={date(2026, 3, 10): "holiday"},  # type: ignore[dict-item]
    )
    berlin = ZoneInfo("Europe/Berlin")
    assert cal.minutes_per_day == 180
    assert cal.day_kind(date(2026, 3, 10)) is DayKind.holiday
    assert cal.add_business_minutes(datetime(2026, 3, 9, 11, tzinfo=berlin), 120) == datetime(
        2026, 3, 11, 10, tzinfo=berlin
    )


def test_the_calendar_is_immutable() -> None:
    rows = {date(2026, 3, 10): DayKind.holiday}
    cal = BusinessCalendar(days=rows)
    rows[date(2026, 3, 11)] = DayKind.holiday  # the caller's dict changing later …
    assert cal.is_working_day(date(2026, 3, 11))  # … does not change the calendar
    with pytest.raises(TypeError):
        cal.days[date(2026, 3, 12)] = DayKind.holiday  # type: ignore[index]


# ----- uncovered years and admin rows -------------------------------------------------------------


def test_uncovered_year_falls_back_to_weekends() -> None:
    assert official_days(2027) is None
    assert not covered(2027)
    assert covered(2026)
    cal = default_calendar(years=[2026, 2027])
    assert cal.covered(2026) and not cal.covered(2027)
    # Fri 1 Jan 2027 has no official row yet: an ordinary weekday, no crash.
    assert cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2027, 1, 2))
    assert cal.add_business_minutes(at(2026, 12, 31, 17, 0), 60) == at(2027, 1, 1, 9, 0)
    assert cal.add_business_minutes(at(2027, 1, 1, 17, 0), 60) == at(2027, 1, 4, 9, 0)
    assert cal.holiday_blocks(2027) == []


def test_admin_row_makes_an_uncovered_day_a_holiday() -> None:
    admin = [DayRow(date(2027, 1, 1), DayKind.holiday, "元旦")]
    cal = default_calendar(extra_rows=admin, years=[2026, 2027])
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.add_business_minutes(at(2026, 12, 31, 17, 0), 60) == at(2027, 1, 4, 9, 0)
    assert cal.holiday_blocks(2027) == [HolidayBlock("元旦", date(2027, 1, 1), date(2027, 1, 3))]


def test_admin_rows_win_over_official_rows() -> None:
    # The admin cancels the adjusted Saturday 10 Oct 2026 and opens 国庆 day 7 Oct instead.
    admin = [
        DayRow(date(2026, 10, 10), DayKind.weekend),
        DayRow(date(2026, 10, 7), DayKind.workday),
    ]
    merged = merge_rows(official_days(2026) or (), admin)
    assert merged[date(2026, 10, 10)].kind is DayKind.weekend
    cal = BusinessCalendar.from_rows(merged)
    assert not cal.is_working_day(date(2026, 10, 10))
    assert cal.is_working_day(date(2026, 10, 7))
    # 450 on 30 Sep, 540 on 7 Oct, 540 on 8 Oct, 90 on Fri 9 Oct.
    assert cal.add_business_minutes(at(2026, 9, 30, 10), 1620) == at(2026, 10, 9, 10, 0)
    assert date(2026, 10, 10) not in cal.names  # the admin row carries no holiday name
    same = default_calendar(extra_rows=admin, years=[2026])
    assert same.days == cal.days


def test_a_calendar_without_working_days_raises_instead_of_looping() -> None:
    start = date(2026, 1, 1)
    closed = {start + timedelta(days=i): DayKind.holiday for i in range(MAX_SCAN_DAYS + 10)}
    cal = BusinessCalendar(days=closed)
    with pytest.raises(ValueError, match="no working day"):
        cal.add_business_minutes(at(2026, 1, 1, 9), 1)
    with pytest.raises(ValueError, match="no working day"):
        cal.add_business_minutes(at(2026, 1, 1, 9), 0)
    with pytest.raises(ValueError, match="no working day"):
        cal.last_working_day_before(start + timedelta(days=MAX_SCAN_DAYS + 5))


def test_long_spans_are_fast() -> None:
    start = at(2026, 3, 2, 8, 30)  # Monday morning
    began = clock.perf_counter()
    due = CAL.add_business_minutes(start, 100 * 540)
    assert clock.perf_counter() - began < 0.5
    # Count 100 working days independently.
    day, seen = start.date(), 0
    while True:
        if CAL.is_working_day(day):
            seen += 1
            if seen == 100:
                break
        day += timedelta(days=1)
    assert due == datetime.combine(day, time(17, 30), tzinfo=SH)
    began = clock.perf_counter()
    CAL.add_business_minutes(start, 10 * 366 * 24 * 60)  # the largest SLA target allowed
    assert clock.perf_counter() - began < 2.0


# ----- properties ---------------------------------------------------------------------------------

WINDOW_START = date(2025, 12, 1)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """The real 2025–2026 calendar, or a random day table and random working hours."""
    if draw(st.booleans()):
        return CAL
    kinds = draw(
        st.dictionaries(
            st.integers(0, 120).map(lambda i: WINDOW_START + timedelta(days=i)),
            st.sampled_from(list(DayKind)),
            max_size=60,
        )
    )
    begin = draw(st.integers(0, 11 * 60))
    # At least two hours a day, so 40 days of 540 minutes never spans decades.
    end = draw(st.integers(begin + 120, 23 * 60 + 59))
    return BusinessCalendar(
        work_start=time(begin // 60, begin % 60), work_end=time(end // 60, end % 60), days=kinds
    )


starts = st.datetimes(
    min_value=datetime(2025, 11, 20), max_value=datetime(2027, 2, 1), timezones=st.just(SH)
)
minutes = st.integers(0, 540 * 40)


@PROPERTIES
@given(calendars(), starts, minutes, minutes)
def test_property_adding_in_two_steps(
    cal: BusinessCalendar, start: datetime, a: int, b: int
) -> None:
    """add(add(s, a), b) == add(s, a + b) for every start s whenever b > 0 or a == 0.

    The one exception is b == 0 after a > 0: add(s, a) may be exactly work_end (a day's last
    minute used up), and add(work_end, 0) moves on to the next working start.
    """
    first = cal.add_business_minutes(start, a)
    second = cal.add_business_minutes(first, b)
    if b > 0 or a == 0:
        assert second == cal.add_business_minutes(start, a + b)
    else:
        assert second == cal.next_working_instant(first)


def test_adding_zero_after_a_full_day_moves_to_the_next_morning() -> None:
    end_of_day = CAL.add_business_minutes(at(2026, 3, 10, 17, 29), 1)
    assert end_of_day == at(2026, 3, 10, 17, 30)
    assert CAL.add_business_minutes(end_of_day, 0) == at(2026, 3, 11, 8, 30)


@PROPERTIES
@given(calendars(), starts, minutes)
def test_property_result_lies_in_working_hours(
    cal: BusinessCalendar, start: datetime, m: int
) -> None:
    due = cal.add_business_minutes(start, m)
    assert due.tzinfo is cal.tz
    assert due >= start
    assert cal.is_working_day(due.date())
    if m > 0:
        assert cal.work_start < due.timetz().replace(tzinfo=None) <= cal.work_end
    else:
        assert cal.work_start <= due.timetz().replace(tzinfo=None) < cal.work_end


@PROPERTIES
@given(calendars(), starts, starts, minutes, minutes)
def test_property_monotonic(
    cal: BusinessCalendar, s1: datetime, s2: datetime, m1: int, m2: int
) -> None:
    s1, s2 = sorted((s1, s2))
    m1, m2 = sorted((m1, m2))
    assert cal.add_business_minutes(s1, m1) <= cal.add_business_minutes(s1, m2)
    assert cal.add_business_minutes(s1, m1) <= cal.add_business_minutes(s2, m1)


@PROPERTIES
@given(calendars(), starts, minutes)
def test_property_between_inverts_add(cal: BusinessCalendar, start: datetime, m: int) -> None:
    due = cal.add_business_minutes(start, m)
    assert cal.business_minutes_between(start, due) == m
    assert cal.business_time_between(start, due) == timedelta(minutes=m)


@PROPERTIES
@given(calendars(), starts, starts, starts)
def test_property_between_is_additive(
    cal: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.business_time_between(a, b) + cal.business_time_between(
        b, c
    ) == cal.business_time_between(a, c)
