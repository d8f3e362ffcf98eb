"""The engineer queue's rows, rendered in Python (portal/tickets/rows.py)."""

from datetime import datetime
from datetime import timezone
from types import SimpleNamespace

import pytest

from portal.tickets.models import Ticket
from portal.tickets.rows import QueueRows
from portal.tickets.rows import level_class
from tests.conftest import log_in
from tests.tickets.conftest import ticket_body

UTC_NOON = datetime(2026, 3, 2, 4, 5, tzinfo=timezone.utc)  # 12:05 in Asia/Shanghai


def _ticket(**fields):
    values = {"id": 7, "number": "T2026-000007", "title": "挂号机卡纸", "priority": "P2", "status": "accepted",
              "reported_at": UTC_NOON, "response_due": None, "resolve_due": UTC_NOON, "response_breached": False,
              "resolve_breached": False, "sla_level": 0}
    return SimpleNamespace(**{**values, **fields})


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, ""),
    ({"sla_level": 50}, "table-info"),
    ({"sla_level": 75}, "table-warning"),
    ({"sla_level": 90}, "table-warning sla-90"),
    ({"sla_level": 100}, "table-danger"),
    ({"resolve_breached": True}, "table-danger"),
    ({"response_breached": True, "status": "new"}, "table-danger"),
    ({"response_breached": True, "status": "accepted"}, ""),  # answered late, but answered
])
def test_level_class_colours_the_sla_state(fields, expected):
    assert level_class(_ticket(**fields)) == expected


def test_a_row_shows_local_times_translated_labels_and_badges(app):
    with app.test_request_context("/tickets/queue", headers={"Accept-Language": "zh-CN"}):
        rows = QueueRows()
        html = rows.render([_ticket(status="waiting_customer", sla_level=75)])
        assert '<tr class="table-warning">' in html
        assert '<a href="/tickets/7">T2026-000007</a>' in html
        assert "<td>2026-03-02 12:05</td><td></td><td>2026-03-02 12:05</td>" in html
        assert '<span class="badge badge-warning">75%</span><span class="badge badge-secondary">已暂停</span>' in html
        breached = rows.render([_ticket(resolve_breached=True, sla_level=90)])
        assert '<span class="badge badge-danger">已超时</span>' in breached and "90%" not in breached


@pytest.mark.parametrize("stored", [
    "2026-03-02 04:05:06.123456",  # SQLite's text, read unconverted
    "2026-03-02 04:05:06",
    datetime(2026, 3, 2, 4, 5, 6),  # PostgreSQL's naive UTC
    datetime(2026, 3, 2, 4, 5, 6, tzinfo=timezone.utc),  # a model's converted time
], ids=["text", "text-whole-seconds", "naive", "aware"])
def test_a_stored_time_shows_as_the_converted_one_in_each_zone(stored):
    from zoneinfo import ZoneInfo

    from portal.times import local_in
    from portal.times import stored_local

    for zone, expected in (("Asia/Shanghai", "2026-03-02 12:05"), ("America/New_York", "2026-03-01 23:05"),
                           ("Asia/Kathmandu", "2026-03-02 09:50")):
        assert stored_local(stored, ZoneInfo(zone)) == expected == local_in(UTC_NOON, ZoneInfo(zone))
        assert stored_local(stored, ZoneInfo(zone)) == expected  # and again, from what it keeps


def test_every_ticket_value_is_escaped(app):
    hostile = '<script>alert("x")</script>'
    with app.test_request_context("/tickets/queue"):
        html = QueueRows().render([_ticket(number=hostile, title=hostile, priority=hostile, status=hostile)])
    assert "<script>" not in html and html.count("&lt;script&gt;") == 4


def test_the_queue_page_escapes_a_hostile_title_from_the_api(app, contract, apis, users):
    hostile = '"><img src=x onerror=alert(1)>'
    assert apis["reporter"].post("/tickets", ticket_body(contract, title=hostile)).status_code == 201
    engineer = app.test_client()
    log_in(engineer, users["engineer"].username)
    page = engineer.get("/tickets/queue").get_data(as_text=True)
    assert Ticket.get().number in page
    assert "<img src=x" not in page and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
