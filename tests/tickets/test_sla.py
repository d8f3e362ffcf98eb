"""SLA on tickets: deadlines agree with /api/v1/calendar/due, pauses move them by exactly the
paused time on each target's clock, the sweep raises levels once, breaches are one indexed query."""

from datetime import datetime
from datetime import timedelta

import pytest

from portal import signals
from portal.db import db
from portal.db import is_postgres
from portal.queue import enqueue
from portal.tickets import deadlines
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from tests.tickets.conftest import SH
from tests.tickets.conftest import SLA
from tests.tickets.conftest import ticket_body


def parse(value):
    return datetime.fromisoformat(value)


def calendar_due(api, start, minutes, clock):
    response = api.get("/calendar/due", query_string={"start": start.isoformat(), "minutes": minutes, "clock": clock})
    assert response.status_code == 200, response.get_json()
    return parse(response.get_json()["due"])


def test_deadlines_agree_with_the_calendar_api_across_national_day(app, contract, apis):
    # DESIGN §4's example, one year earlier: Tue 30 Sep 2025 10:00, 1-8 Oct off, Sat 11 Oct worked.
    reported = datetime(2025, 9, 30, 10, 0, tzinfo=SH)
    for priority in ("P1", "P2", "P3", "P4"):
        response = apis["engineer"].post("/tickets", ticket_body(contract, priority=priority,
                                                                 reported_at=reported.isoformat()))
        assert response.status_code == 201, response.get_json()
        ticket = response.get_json()
        assert parse(ticket["reported_at"]) == reported
        assert ticket["events"][0]["kind"] == "created" and parse(ticket["events"][0]["at"]) == reported
        for row_priority, kind, minutes, clock in SLA:
            if row_priority == priority:
                assert parse(ticket[f"{kind}_due"]) == calendar_due(apis["engineer"], reported, minutes, clock), kind
    p3 = Ticket.get((Ticket.priority == "P3"))
    assert p3.resolve_due.astimezone(SH) == datetime(2025, 10, 11, 10, 0, tzinfo=SH)


def _create(api, contract, priority, reported):
    response = api.post("/tickets", ticket_body(contract, priority=priority, reported_at=reported.isoformat()))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_pause_and_resume_move_deadlines_by_exactly_the_paused_time(app, contract, apis):
    eng = apis["engineer"]
    reported = datetime(2025, 6, 10, 9, 0, tzinfo=SH)  # a Tuesday; Wednesday 11 June is worked too
    ticket = _create(eng, contract, "P1", reported)
    tid = ticket["id"]
    assert eng.act(tid, "accept", at=(reported + timedelta(minutes=10)).isoformat()).status_code == 200
    assert eng.act(tid, "start", at=(reported + timedelta(minutes=20)).isoformat()).status_code == 200
    before = eng.get(f"/tickets/{tid}").get_json()
    pause_start = datetime(2025, 6, 10, 10, 0, tzinfo=SH)
    pause_end = datetime(2025, 6, 11, 10, 0, tzinfo=SH)  # 24 h wall clock = 450 + 90 = 540 business minutes
    paused = eng.act(tid, "wait_customer", at=pause_start.isoformat(), comment="等待科室提供报错截图")
    assert paused.status_code == 200, paused.get_json()
    assert paused.get_json()["resolve_due"] == before["resolve_due"]  # unchanged while paused
    resumed = eng.act(tid, "resume", at=pause_end.isoformat(), comment="科室已提供截图")
    assert resumed.status_code == 200
    after = resumed.get_json()
    # Business clock (P1 resolve 540 business): moves by the 540 working minutes of the pause.
    assert parse(after["resolve_due"]) == calendar_due(eng, parse(before["resolve_due"]), 540, "business")
    assert parse(after["resolve_due"]) - parse(before["resolve_due"]) == timedelta(hours=24)  # 11 Jun 09:00 -> 12 Jun 09:00
    # Wall clock (P1 on-site 180 min, 24x7): moves by the 24 h of the pause.
    assert parse(after["onsite_due"]) - parse(before["onsite_due"]) == timedelta(hours=24)
    # The response promise was kept before the pause: it does not move.
    assert after["response_due"] == before["response_due"]
    assert after["paused_minutes"] == 24 * 60
    assert not after["resolve_breached"]
    kinds = [event["kind"] for event in after["events"]]
    assert kinds == ["created", "accept", "start", "wait_customer", "resume"]


def test_a_pause_after_the_deadline_changes_nothing_and_resolving_late_is_a_breach(app, contract, apis):
    eng = apis["engineer"]
    reported = datetime(2025, 6, 10, 9, 0, tzinfo=SH)
    tid = _create(eng, contract, "P3", reported)["id"]
    late = reported + timedelta(minutes=150)  # P3 response: 120 min, 24x7
    accepted = eng.act(tid, "accept", at=late.isoformat()).get_json()
    assert accepted["response_breached"] is True
    resolve_due = parse(accepted["resolve_due"])
    eng.act(tid, "start", at=late.isoformat())
    resolved = eng.act(tid, "resolve", at=(resolve_due + timedelta(minutes=1)).isoformat(), resolution="已处理")
    assert resolved.get_json()["resolve_breached"] is True


def test_authorization_wait_is_a_pause_too(app, contract, apis):
    eng, it = apis["engineer"], apis["hospital_it"]
    reported = datetime(2025, 6, 10, 9, 0, tzinfo=SH)
    tid = eng.post("/tickets", ticket_body(contract, category="data_correction",
                                           reported_at=reported.isoformat())).get_json()["id"]
    eng.act(tid, "accept", at="2025-06-10T09:10:00+08:00")
    before = eng.act(tid, "request_authorization", at="2025-06-10T10:00:00+08:00", comment="需修改病人费用").get_json()
    after = it.act(tid, "authorize", at="2025-06-10T14:00:00+08:00").get_json()
    assert after["status"] == "in_progress" and after["authorized_at"]
    assert parse(after["resolve_due"]) == calendar_due(eng, parse(before["resolve_due"]), 240, "business")


@pytest.fixture
def heard(app):
    """Collect sla_warning/sla_breached signals sent by this app."""
    got = []

    def warning(sender, ticket, target, level):
        got.append((ticket.id, target, level))

    def breached(sender, ticket, target):
        got.append((ticket.id, target, 100))

    signals.sla_warning.connect(warning, sender=app)
    signals.sla_breached.connect(breached, sender=app)
    yield got
    signals.sla_warning.disconnect(warning, sender=app)
    signals.sla_breached.disconnect(breached, sender=app)


def test_sweep_sends_each_level_once(app, contract, apis, heard):
    reported = datetime(2025, 6, 10, 9, 0, tzinfo=SH)
    tid = _create(apis["engineer"], contract, "P3", reported)["id"]  # response: 120 min 24x7
    with app.app_context():
        for minutes, expected in ((59, []), (60, [50]), (61, [50]), (95, [50, 75]), (110, [50, 75, 90]),
                                  (119, [50, 75, 90]), (120, [50, 75, 90, 100]), (500, [50, 75, 90, 100])):
            deadlines.sweep(reported + timedelta(minutes=minutes))
            assert [level for _tid, kind, level in heard if kind == "response"] == expected, minutes
        ticket = Ticket.get_by_id(tid)
        assert ticket.response_breached and ticket.response_level == 100 and ticket.sla_level == 100
        assert TicketEvent.select().where((TicketEvent.ticket == tid) & (TicketEvent.kind == "sla_breached")).count() == 1
        db.close()


def test_a_jump_past_several_levels_sends_only_the_highest(app, contract, apis, heard):
    reported = datetime(2025, 6, 10, 9, 0, tzinfo=SH)
    tid = _create(apis["engineer"], contract, "P3", reported)["id"]
    with app.app_context():
        deadlines.sweep(reported + timedelta(minutes=100))
        db.close()
    assert heard == [(tid, "response", 75)]


def test_paused_tickets_are_not_swept(app, contract, apis, heard):
    reported = datetime(2025, 6, 10, 9, 0, tzinfo=SH)
    eng = apis["engineer"]
    tid = _create(eng, contract, "P3", reported)["id"]
    eng.act(tid, "accept", at="2025-06-10T09:05:00+08:00")
    eng.act(tid, "wait_customer", at="2025-06-10T09:10:00+08:00", comment="等待科室回复")
    with app.app_context():
        assert Ticket.get_by_id(tid).sla_next_at is None
        deadlines.sweep(reported + timedelta(days=30))
        assert not Ticket.get_by_id(tid).resolve_breached
        db.close()
    assert heard == []


def test_the_sweep_is_a_periodic_task_every_minute(app, contract, apis, heard):
    schedule, _function = app.extensions["weibao"].registry("periodic task").get("tickets.sla_sweep")
    assert all(schedule(datetime(2026, 1, 1, 0, minute)) for minute in range(60))  # crontab(): every minute
    old = datetime(2025, 6, 10, 9, 0, tzinfo=SH)
    tid = _create(apis["engineer"], contract, "P3", old)["id"]
    enqueue(app, "tickets.sla_sweep")  # immediate mode: runs now, in its own app context
    assert (tid, "response", 100) in heard
    assert Ticket.get_by_id(tid).resolve_breached


def _plan(query):
    sql, params = query.sql()
    if is_postgres():
        with db.atomic():
            db.execute_sql("SET LOCAL enable_seqscan = off")  # a tiny test table would be seq-scanned
            return "\n".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall())
    return "\n".join(str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_finding_breached_tickets_is_one_indexed_query(app, contract, apis):
    now = datetime.now(SH)
    with app.app_context():
        plan = _plan(deadlines.breached_query(now))
        print(plan)
        assert "ticket_status_resolve_due" in plan, plan
        assert "SCAN ticket" not in plan.replace("SCAN ticket USING", "") and "Seq Scan" not in plan, plan
        response_plan = _plan(deadlines.unanswered_breached_query(now))
        assert "ticket_status_response_due" in response_plan, response_plan
        sweep_plan = _plan(deadlines.due_for_sweep_query(now))
        assert "ticket_sla_next_at" in sweep_plan, sweep_plan
        db.close()
