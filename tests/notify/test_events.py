"""Ticket events become notifications for the right people, at the right moments, in the change's
transaction; nobody hears about another organisation's objects; the inbox API shows only the caller's."""

from datetime import date
from datetime import datetime
from datetime import timedelta

from portal.accounts.models import User
from portal.db import db
from portal.notify.models import DutyRoster
from portal.notify.models import Notification
from portal.tickets import deadlines
from portal.tickets import service
from portal.tickets.models import Ticket
from tests.notify.conftest import add_config
from tests.tickets.conftest import SH
from tests.tickets.conftest import Api
from tests.tickets.conftest import ticket_body


def inbox_of(user, event=None):
    query = Notification.select().where((Notification.recipient == user.id) & (Notification.channel == "inbox"))
    if event:
        query = query.where(Notification.event == event)
    return list(query.order_by(Notification.id))


def _create(app, contract, actor, at, **fields):
    with app.test_request_context():
        data = {**ticket_body(contract, **fields), "reported_at": at}
        data.pop("contract_id")
        data["contract_id"] = contract.id
        return service.create_ticket(data, actor, now=at)


def test_ticket_created_in_working_hours_tells_the_vendor_staff_only(app, contract, other_contract, users, make_user,
                                                                      other_hospital):
    other_it = make_user("hospital_it", organization=other_hospital)
    ticket = _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 10, 0, tzinfo=SH))
    assert [n.recipient_id for n in Notification.select().where(Notification.event == "ticket_created")
            .order_by(Notification.recipient)] == sorted([users["engineer"].id, users["manager"].id])
    (row,) = inbox_of(users["engineer"])
    assert row.status == "sent" and ticket.number in row.payload["title"]
    assert row.payload["url"].endswith(f"/tickets/{ticket.id}")
    assert inbox_of(other_it) == [] and inbox_of(users["reporter"]) == []


def test_ticket_created_at_night_and_on_holidays_goes_to_the_duty_roster(app, contract, users, make_user, vendor):
    night_engineer = make_user("engineer", display_name="值班 覃工")
    holiday_engineer = make_user("engineer", display_name="假日 黄工")
    DutyRoster.create(vendor=vendor, engineer=night_engineer, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31),
                      weekdays="12345")
    DutyRoster.create(vendor=vendor, engineer=holiday_engineer, start_date=date(2026, 1, 1),
                      end_date=date(2026, 12, 31), holidays=True)
    _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 22, 30, tzinfo=SH))  # a Tuesday night
    assert [n.recipient_id for n in Notification.select().where(Notification.event == "ticket_created")] == [
        night_engineer.id]
    Notification.delete().execute()
    _create(app, contract, users["hospital_it"], datetime(2026, 10, 3, 11, 0, tzinfo=SH))  # 国庆, a Saturday
    assert [n.recipient_id for n in Notification.select().where(Notification.event == "ticket_created")] == [
        holiday_engineer.id]
    Notification.delete().execute()
    _create(app, contract, users["hospital_it"], datetime(2026, 3, 14, 11, 0, tzinfo=SH))  # a weekend, no roster
    assert {n.recipient_id for n in Notification.select().where(Notification.event == "ticket_created")} == {
        users["engineer"].id, users["manager"].id, night_engineer.id, holiday_engineer.id}


def test_workflow_steps_reach_reporter_and_hospital_it(app, contract, users, apis):
    reporter, it = users["reporter"], users["hospital_it"]
    created = apis["reporter"].post("/tickets", ticket_body(contract, category="data_correction", reporter_name=""))
    assert created.status_code == 201, created.get_json()
    tid = created.get_json()["id"]
    assert apis["engineer"].act(tid, "accept").status_code == 200
    assert [n.payload["title"] for n in inbox_of(reporter, "ticket_accepted")] == [
        f"工单 {created.get_json()['number']} 已受理"]
    assert apis["engineer"].act(tid, "request_authorization", comment="需要修改收费记录").status_code == 200
    (auth,) = inbox_of(it, "ticket_waiting_authorization")
    assert "需要修改收费记录" in auth.payload["body"]
    assert inbox_of(reporter, "ticket_waiting_authorization") == []
    assert apis["hospital_it"].act(tid, "authorize").status_code == 200
    assert apis["engineer"].act(tid, "resolve", resolution="已更正").status_code == 200
    (resolved,) = inbox_of(reporter, "ticket_resolved")
    assert resolved.payload["url"].endswith(f"/tickets/{tid}#confirm")
    assert resolved.payload["link_text"] == "确认并评价"


def test_sla_warnings_and_breach_climb_the_escalation_ladder_on_the_business_calendar(app, contract, users):
    # P3 response: 120 minutes 24x7; resolve: 1620 business minutes (3 working days of 540).
    reported = datetime(2026, 3, 10, 9, 0, tzinfo=SH)
    ticket = _create(app, contract, users["hospital_it"], reported, priority="P3")
    Notification.delete().execute()
    engineer, manager, it = users["engineer"], users["manager"], users["hospital_it"]

    def sweep(at):
        with app.app_context():
            deadlines.sweep(now=at)
            db.close()

    def response_levels():
        rows = Notification.select().where((Notification.channel == "inbox") & Notification.event.in_(
            ["sla_warning", "sla_breached"]) & Notification.idempotency_key.contains(":sla:response:"))
        return {(row.recipient_id, row.payload.get("level")) for row in rows}

    sweep(reported + timedelta(minutes=59))
    assert response_levels() == set()
    sweep(reported + timedelta(minutes=60))
    assert response_levels() == {(engineer.id, 50)}
    sweep(reported + timedelta(minutes=90))
    assert response_levels() == {(engineer.id, 50), (engineer.id, 75), (manager.id, 75)}
    sweep(reported + timedelta(minutes=90))  # a repeated sweep adds nothing
    assert len(response_levels()) == 3
    sweep(reported + timedelta(minutes=108))
    assert (manager.id, 90) in response_levels() and (it.id, 90) not in response_levels()
    sweep(reported + timedelta(minutes=120))
    assert {(engineer.id, 100), (manager.id, 100), (it.id, 100)} <= response_levels()
    breach = Notification.get((Notification.recipient == it.id) & (Notification.event == "sla_breached"))
    assert breach.urgent and ticket.number in breach.payload["title"]
    # Resolve clock: 50% of 1620 business minutes = 810 = 1.5 working days → Wednesday 13:30
    # (08:30–17:30 days); over a weekend it would move. The sweep one minute early finds nothing.
    resolve_half = datetime(2026, 3, 11, 13, 30, tzinfo=SH)
    with app.app_context():
        assert Ticket.get_by_id(ticket.id).resolve_level == 0
    sweep(resolve_half - timedelta(minutes=1))
    assert not Notification.select().where(Notification.idempotency_key.contains(":sla:resolve:")).exists()
    sweep(resolve_half)
    assert Notification.select().where(Notification.idempotency_key.contains(":sla:resolve:50")).exists()


def test_group_channels_of_another_hospital_hear_nothing(app, contract, other_contract, users, receiver, hospital,
                                                         other_hospital):
    ours = add_config("ours", "webhook", {"url": receiver.url + "/webhook"}, receiver.webhook_secret,
                      organization=hospital)
    theirs = add_config("theirs", "webhook", {"url": receiver.url + "/webhook"}, receiver.webhook_secret,
                        organization=other_hospital)
    _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 10, 0, tzinfo=SH))
    configs = {row.config_id for row in Notification.select().where(Notification.config.is_null(False))}
    assert configs == {ours.id} and theirs.id not in configs
    assert receiver.processed and all(key.endswith(f":c{ours.id}") for key in receiver.processed)


def test_a_hospital_user_never_gets_another_hospitals_ticket(app, contract, other_contract, users, make_user,
                                                             other_hospital):
    other_it = make_user("hospital_it", organization=other_hospital)
    other_reporter = make_user("reporter", organization=other_hospital)
    # A misdirected recipient list (a bug elsewhere) is still filtered by visibility.
    from portal.notify.recipients import dispatch

    ticket = _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 10, 0, tzinfo=SH))
    with app.test_request_context():
        written = dispatch("ticket_resolved", ticket, [other_it, other_reporter, users["hospital_it"]],
                           lambda: {"title": "t", "body": "b"}, "probe")
    assert written == 1
    assert inbox_of(other_it) == [] and inbox_of(other_reporter) == []
    assert len(inbox_of(users["hospital_it"], "ticket_resolved")) == 1


def test_inbox_api_shows_only_the_callers_items(app, contract, users, make_user, other_hospital):
    _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 10, 0, tzinfo=SH))
    engineer_api, other_api = Api(app, users["engineer"]), Api(app, make_user("hospital_it", organization=other_hospital))
    items = engineer_api.get("/notifications").get_json()["items"]
    assert len(items) == 1 and items[0]["event"] == "ticket_created" and items[0]["read_at"] is None
    assert other_api.get("/notifications").get_json()["items"] == []
    assert other_api.post(f"/notifications/{items[0]['id']}/read").status_code == 404
    manager_row = Notification.get(Notification.recipient == users["manager"].id)
    assert engineer_api.post(f"/notifications/{manager_row.id}/read").status_code == 404
    assert engineer_api.post(f"/notifications/{items[0]['id']}/read").get_json()["read_at"] is not None
    assert engineer_api.get("/notifications?unread=1").get_json()["items"] == []
    assert engineer_api.get("/notifications?unread=maybe").status_code == 422
    assert User.get_by_id(users["engineer"].id).active


def test_a_failing_channel_never_blocks_ticket_work(app, contract, users, apis):
    add_config("dead-hook", "webhook", {"url": "http://127.0.0.1:9/hook"}, "secret-0123456789")
    response = apis["reporter"].post("/tickets", ticket_body(contract, reporter_name=""))
    assert response.status_code == 201
    tid = response.get_json()["id"]
    assert apis["engineer"].act(tid, "accept").status_code == 200
    failed = list(Notification.select().where(Notification.channel == "webhook"))
    assert failed and {row.status for row in failed} == {"failed"}
    assert all("无法连接 127.0.0.1:9" in row.last_error for row in failed)
