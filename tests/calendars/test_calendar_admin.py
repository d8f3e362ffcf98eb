"""Calendar admin pages: who may edit, the uncovered-year banner, working hours."""

from portal.calendars import service
from portal.calendars.models import CalendarSettings
from tests.conftest import csrf_token
from tests.conftest import log_in

BANNER = 'id="calendar-uncovered-warning"'


def test_banner_for_admins_only_when_a_year_is_uncovered(app, client, make_user):
    with app.app_context():
        missing = service.warning_years()
    admin = make_user("admin")
    log_in(client, admin.username)
    page = client.get("/admin/calendar_days/").get_data(as_text=True)
    assert (BANNER in page) == bool(missing)
    if missing:
        assert str(missing[0]) in page and "国务院尚未发布" in page and "仅按周末和管理员录入的日期计算" in page
    other = app.test_client()
    log_in(other, make_user("hospital_it").username)
    response = other.get("/admin/calendar_days/")
    assert response.status_code == 200 and BANNER not in response.get_data(as_text=True)


def test_non_admins_may_view_but_not_edit(app, client, make_user):
    log_in(client, make_user("manager").username)
    assert client.get("/admin/calendar_days/").status_code == 200
    assert client.get("/admin/calendar_days/new/").status_code == 403
    row = CalendarSettings.get()
    assert client.get(f"/admin/calendar_settings/edit/?id={row.id}").status_code == 403


def test_working_hours_edit_changes_the_arithmetic(app, client, make_user):
    log_in(client, make_user("admin").username)
    row = CalendarSettings.get()
    url = f"/admin/calendar_settings/edit/?id={row.id}"
    bad = client.post(url, data={"csrf_token": csrf_token(client, url), "timezone": "Asia/Shanghai",
                                 "work_start": "25:00", "work_end": "17:30"})
    assert bad.status_code == 200 and CalendarSettings.get().work_start == "08:30"
    backwards = client.post(url, data={"csrf_token": csrf_token(client, url), "timezone": "Asia/Shanghai",
                                       "work_start": "18:00", "work_end": "09:00"})
    assert backwards.status_code == 200 and CalendarSettings.get().work_start == "08:30"
    zone = client.post(url, data={"csrf_token": csrf_token(client, url), "timezone": "Mars/Olympus",
                                  "work_start": "08:00", "work_end": "18:00"})
    assert zone.status_code == 200 and CalendarSettings.get().timezone == "Asia/Shanghai"
    good = client.post(url, data={"csrf_token": csrf_token(client, url), "timezone": "Asia/Shanghai",
                                  "work_start": "08:00", "work_end": "18:00"})
    assert good.status_code == 302
    body = client.get("/api/v1/calendar/days?year=2026").get_json()
    assert body["minutes_per_day"] == 600 and body["work_start"] == "08:00"
    due = client.get("/api/v1/calendar/due", query_string={"start": "2026-09-30T17:00:00+08:00", "minutes": 120})
    assert due.get_json()["due"] == "2026-10-08T09:00:00+08:00"
