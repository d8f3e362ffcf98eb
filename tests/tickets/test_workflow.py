"""The transition table, tested from itself: every action × role × state gives 200, 403 or 409,
and a refusal changes nothing."""

import pytest

from portal.audit import AuditLog
from portal.permissions import ALL_ROLES
from portal.tickets.models import STATUSES
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from portal.tickets.workflow import TRANSITIONS
from tests.tickets.conftest import ticket_body

# Everything any action may need, so only the table decides.
FIELDS = {"comment": "已电话联系科室", "resolution": "重启打印服务后恢复", "root_cause": "打印队列阻塞", "satisfaction": 5}


def _snapshot(ticket_id):
    row = Ticket.select().where(Ticket.id == ticket_id).dicts().get()
    return row, TicketEvent.select().where(TicketEvent.ticket == ticket_id).count(), AuditLog.select().count()


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_role_and_state_follows_the_table(app, contract, apis, action):
    rule = TRANSITIONS[action]
    created = apis["reporter"].post("/tickets", ticket_body(contract, priority="P2", reporter_name=""))
    assert created.status_code == 201, created.get_json()
    ticket_id = created.get_json()["id"]
    for status in STATUSES:
        for role in sorted(ALL_ROLES):
            # Put the ticket in the state under test (a fresh authorization for data-correction guards).
            Ticket.update(status=status, resolved_at=None, authorized_at=None).where(Ticket.id == ticket_id).execute()
            before = _snapshot(ticket_id)
            response = apis[role].act(ticket_id, action, **FIELDS)
            role_ok = role == "admin" or role in rule.roles
            if not role_ok:
                expected = 403
            elif status not in rule.sources:
                expected = 409
            else:
                expected = 200
            assert response.status_code == expected, (action, status, role, response.get_json())
            if expected != 200:
                assert response.get_json()["error"]["message"]
                assert _snapshot(ticket_id) == before, (action, status, role)
            else:
                body = response.get_json()
                assert body["status"] == (rule.target or status)
                assert body["events"][-1]["kind"] == action
                assert body["events"][-1]["from_status"] == status
                last = AuditLog.select().order_by(AuditLog.id.desc()).first()
                assert (last.action, last.object_id) == ("transition", str(ticket_id))
                # Leave no open pause behind for the next combination.
                from portal.tickets.models import TicketPause

                TicketPause.delete().where(TicketPause.ticket == ticket_id).execute()


def test_unknown_action_is_422(app, contract, apis):
    ticket_id = apis["engineer"].post("/tickets", ticket_body(contract)).get_json()["id"]
    response = apis["engineer"].act(ticket_id, "teleport")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "action"


def test_the_table_covers_the_documented_workflow():
    # DESIGN §4 and API.md: the actions and the main path.
    assert {"accept", "start", "wait_customer", "request_authorization", "authorize", "resume", "resolve",
            "confirm", "reopen", "close"} <= set(TRANSITIONS)
    path = ["new", "accepted", "in_progress", "waiting_customer", "in_progress", "resolved", "reopened",
            "in_progress", "resolved", "closed"]
    actions = ["accept", "start", "wait_customer", "resume", "resolve", "reopen", "start", "resolve", "confirm"]
    for (here, there), action in zip(zip(path, path[1:]), actions):
        assert here in TRANSITIONS[action].sources and TRANSITIONS[action].target == there
    assert TRANSITIONS["resolve"].sources == {"accepted", "in_progress"}
    assert TRANSITIONS["authorize"].roles == {"hospital_it"}


def test_signals_are_sent_with_the_change(app, contract, apis):
    from portal import signals

    heard = []

    def created(sender, ticket):
        heard.append(("created", ticket.number))

    def changed(sender, ticket, event, from_status, to_status):
        heard.append((event.kind, from_status, to_status))

    signals.ticket_created.connect(created, sender=app)
    signals.ticket_status_changed.connect(changed, sender=app)
    try:
        body = apis["engineer"].post("/tickets", ticket_body(contract)).get_json()
        apis["engineer"].act(body["id"], "accept")
        apis["engineer"].act(body["id"], "resolve", resolution="远程重启服务后恢复")
        apis["engineer"].act(body["id"], "close")  # an engineer may not close: no signal
    finally:
        signals.ticket_created.disconnect(created, sender=app)
        signals.ticket_status_changed.disconnect(changed, sender=app)
    assert heard == [("created", body["number"]), ("accept", "new", "accepted"), ("resolve", "accepted", "resolved")]


def test_accept_can_assign_an_engineer_of_the_vendor(app, contract, apis, make_user):
    colleague = make_user("engineer")
    tid = apis["engineer"].post("/tickets", ticket_body(contract)).get_json()["id"]
    accepted = apis["manager"].act(tid, "accept", assignee_id=colleague.id).get_json()
    assert accepted["assignee_id"] == colleague.id and accepted["accepted_by_id"] == apis["manager"].user.id
    assert accepted["first_response_at"] == accepted["accepted_at"]
