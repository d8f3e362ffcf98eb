"""The stored calendar through the API: deadlines across every 2026 holiday and 调休 day,
admin rows, seeding, bad input."""

from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest

from portal.calendar import official_days
from portal.calendars import service
from portal.calendars.models import CalendarDay
from tests.portal.test_calendar import ADJUSTED_WORKDAYS_2026
from tests.portal.test_calendar import HOLIDAY_BLOCKS_2026

# The official 2026 table, written out once beside the pure calendar's tests.
BLOCKS_2026 = HOLIDAY_BLOCKS_2026
ADJUSTED_2026 = [day for day, _holiday in ADJUSTED_WORKDAYS_2026]


def due(client, headers, start, minutes, clock="business"):
    response = client.get("/api/v1/calendar/due", query_string={"start": start, "minutes": minutes, "clock": clock},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["due"]


def test_design_example_three_working_days_over_national_day(client, bearer):
    headers = bearer("reporter")
    assert due(client, headers, "2026-09-30T10:00:00+08:00", 1620) == "2026-10-10T10:00:00+08:00"
    # The same instant written in UTC, and naive (read in Asia/Shanghai), give the same deadline.
    assert due(client, headers, "2026-09-30T02:00:00+00:00", 1620) == "2026-10-10T10:00:00+08:00"
    assert due(client, headers, "2026-09-30T10:00:00", 1620) == "2026-10-10T10:00:00+08:00"
    assert due(client, headers, "2026-09-30T10:00:00+08:00", 1620, "24x7") == "2026-10-01T13:00:00+08:00"


@pytest.mark.parametrize("name, first, last, before, after", BLOCKS_2026, ids=[b[0] for b in BLOCKS_2026])
def test_every_2026_holiday_block_is_skipped(client, bearer, name, first, last, before, after):
    headers = bearer("engineer")
    # One working hour starting at 17:00 on the last working day: 30 min then, 30 after the block.
    start = f"{before.isoformat()}T17:00:00+08:00"
    assert due(client, headers, start, 60) == f"{after.isoformat()}T09:00:00+08:00"
    # Every day inside the block counts nothing: a ticket filed on it starts at the next working period.
    day = first
    while day <= last:
        assert due(client, headers, f"{day.isoformat()}T11:00:00+08:00", 1) == f"{after.isoformat()}T08:31:00+08:00"
        day += timedelta(days=1)


@pytest.mark.parametrize("day", ADJUSTED_2026, ids=str)
def test_every_2026_adjusted_working_day_is_worked(client, bearer, day):
    headers = bearer("hospital_it")
    assert day.weekday() >= 5
    assert due(client, headers, f"{day.isoformat()}T07:00:00+08:00", 90) == f"{day.isoformat()}T10:00:00+08:00"
    # Filed the evening before (a rest day or a working day), work starts on the adjusted day.
    previous = day - timedelta(days=1)
    assert due(client, headers, f"{previous.isoformat()}T20:00:00+08:00", 30) == f"{day.isoformat()}T09:00:00+08:00"


def test_day_table_of_a_covered_year(client, bearer):
    response = client.get("/api/v1/calendar/days?year=2026", headers=bearer("reporter"))
    body = response.get_json()
    assert response.status_code == 200
    assert body["covered"] is True and body["minutes_per_day"] == 540 and len(body["days"]) == 365
    days = {row["date"]: row for row in body["days"]}
    assert days["2026-10-01"] == {"date": "2026-10-01", "kind": "holiday", "working": False, "name": "国庆节",
                                  "source": "official", "note": ""}
    assert days["2026-10-10"]["kind"] == "adjusted_workday" and days["2026-10-10"]["working"] is True
    assert days["2026-10-12"]["kind"] == "workday" and days["2026-10-12"]["source"] is None
    assert days["2026-10-11"]["kind"] == "weekend"
    official = official_days(2026)
    assert sum(1 for row in body["days"] if row["source"] == "official") == len(official)


def test_uncovered_year_falls_back_to_weekends_without_crashing(client, bearer):
    headers = bearer("engineer")
    body = client.get("/api/v1/calendar/days?year=2031", headers=headers).get_json()
    assert body["covered"] is False
    assert {row["kind"] for row in body["days"]} == {"workday", "weekend"}
    # 2031-01-01 is a Wednesday: no official 元旦 yet, so it is worked.
    assert due(client, headers, "2031-01-01T08:30:00+08:00", 60) == "2031-01-01T09:30:00+08:00"


def test_admin_added_holiday_in_2027_is_honoured(app, client, make_user):
    from tests.conftest import csrf_token
    from tests.conftest import log_in

    admin = make_user("admin")
    log_in(client, admin.username)
    # Warm the cache first: the edit must invalidate it.
    start = {"start": "2027-02-26T17:00:00+08:00", "minutes": 60}
    assert client.get("/api/v1/calendar/due", query_string=start).get_json()["due"] == "2027-03-01T09:00:00+08:00"
    token = csrf_token(client, "/admin/calendar_days/new/")
    response = client.post("/admin/calendar_days/new/", data={
        "csrf_token": token, "day": "2027-03-01", "kind": "holiday", "name": "地方假日", "note": "县政府通知"})
    assert response.status_code == 302, response.get_data(as_text=True)
    row = CalendarDay.get(CalendarDay.day == date(2027, 3, 1))
    assert (row.kind, row.source, row.name) == ("holiday", "admin", "地方假日")
    assert client.get("/api/v1/calendar/due", query_string=start).get_json()["due"] == "2027-03-02T09:00:00+08:00"
    days = client.get("/api/v1/calendar/days?year=2027").get_json()
    marked = [d for d in days["days"] if d["date"] == "2027-03-01"][0]
    assert marked["kind"] == "holiday" and marked["source"] == "admin" and days["covered"] is False
    # A duplicate date is refused with a message and nothing changes.
    token = csrf_token(client, "/admin/calendar_days/new/")
    page = client.post("/admin/calendar_days/new/", data={"csrf_token": token, "day": "2027-03-01",
                                                         "kind": "workday", "name": "", "note": ""})
    assert page.status_code == 200 and CalendarDay.select().where(CalendarDay.day == date(2027, 3, 1)).count() == 1


def test_seeding_is_idempotent_and_keeps_admin_rows(app):
    with app.app_context():
        before = CalendarDay.select().count()
        assert service.seed_official() == 0
        row = CalendarDay.get(CalendarDay.day == date(2026, 10, 1))
        row.kind, row.source, row.name = "workday", "admin", "本院值班"
        row.save()
        assert service.seed_official([2026]) == 0
        again = CalendarDay.get(CalendarDay.day == date(2026, 10, 1))
        assert (again.kind, again.source) == ("workday", "admin")
        assert CalendarDay.select().count() == before
        # An official row removed by accident comes back; nothing else changes.
        CalendarDay.delete().where(CalendarDay.day == date(2026, 10, 2)).execute()
        assert service.seed_official([2026]) == 1


def test_cache_is_per_app_and_rebuilt_after_edits(app):
    with app.app_context():
        first = service.current_calendar()
        assert service.current_calendar() is first
        with service.db.atomic():
            CalendarDay.create(day=date(2027, 5, 4), kind="holiday", name="x", source="admin")
            service.bump_version()
        second = service.current_calendar()
        assert second is not first and not second.is_working_day(date(2027, 5, 4))


def test_uncovered_years_and_warning_years(app):
    with app.app_context():
        assert service.uncovered_years([2024, 2025, 2026, 2027]) == [2027]
        assert service.warning_years(date(2025, 3, 1)) == []
        assert service.warning_years(date(2027, 6, 1)) == [2027, 2028]


@pytest.mark.parametrize("query, field", [
    ({"minutes": 60}, "start"),
    ({"start": "yesterday", "minutes": 60}, "start"),
    ({"start": "9999-12-31T23:59:59-12:00", "minutes": 60}, "start"),
    ({"start": "2026-09-30T10:00:00+08:00"}, "minutes"),
    ({"start": "2026-09-30T10:00:00+08:00", "minutes": -5}, "minutes"),
    ({"start": "2026-09-30T10:00:00+08:00", "minutes": "1.5"}, "minutes"),
    ({"start": "2026-09-30T10:00:00+08:00", "minutes": 10**12}, "minutes"),
    ({"start": "2026-09-30T10:00:00+08:00", "minutes": "9" * 400}, "minutes"),
    ({"start": "2026-09-30T10:00:00+08:00", "minutes": 60, "clock": "weekly"}, "clock"),
])
def test_bad_due_queries_are_400_with_the_field(client, bearer, query, field):
    response = client.get("/api/v1/calendar/due", query_string=query, headers=bearer("reporter"))
    assert response.status_code == 400
    assert field in [d["field"] for d in response.get_json()["error"]["details"]]


def test_largest_allowed_business_minutes_answer_quickly(client, bearer):
    started = datetime.now()
    response = client.get("/api/v1/calendar/due", query_string={"start": "2026-01-05T09:00:00+08:00",
                                                                "minutes": 5_270_400}, headers=bearer("reporter"))
    assert response.status_code == 200
    assert (datetime.now() - started).total_seconds() < 5


@pytest.mark.parametrize("year", ["", "abc", "1800", "99999", "-1", "2026.5"])
def test_bad_years_are_400(client, bearer, year):
    response = client.get(f"/api/v1/calendar/days?year={year}", headers=bearer("reporter"))
    assert response.status_code == 400 and response.get_json()["error"]["details"][0]["field"] == "year"


def test_calendar_api_needs_authentication(client):
    assert client.get("/api/v1/calendar/due?start=2026-01-05T09:00:00%2B08:00&minutes=1").status_code == 401
    assert client.get("/api/v1/calendar/days?year=2026").status_code == 401
