"""Bad input gets a 4xx with a message and changes nothing; hostile strings are stored exactly or refused."""

from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from portal.audit import AuditLog
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from portal.tickets.models import TicketSequence
from tests.conftest import blns_strings
from tests.tickets.conftest import ticket_body

BLNS = blns_strings()


def _counts():
    return (Ticket.select().count(), TicketEvent.select().count(), AuditLog.select().count(),
            list(TicketSequence.select().dicts()))


def _fields(response):
    return {detail["field"] for detail in response.get_json()["error"]["details"]}


def test_all_problems_are_reported_at_once(app, contract, other_contract, apis):
    before = _counts()
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    response = apis["engineer"].post("/tickets", ticket_body(
        contract, priority="P9", category="gossip", channel="pigeon", reported_at=future, title=""))
    assert response.status_code == 422
    assert _fields(response) == {"priority", "category", "channel", "reported_at", "title"}
    assert all(d["message"] for d in response.get_json()["error"]["details"])
    # Domain problems come with the shape problems: a foreign system, a date before the contract.
    other_system = other_contract.systems[0]
    response = apis["engineer"].post("/tickets", ticket_body(
        contract, system_id=other_system.id, reported_at="2024-04-30T10:00:00+08:00", priority="P0"))
    assert response.status_code == 422
    assert _fields(response) == {"system_id", "reported_at", "priority"}
    assert _counts() == before


def test_contract_outside_the_callers_organization(app, contract, other_contract, make_user, other_hospital):
    from tests.tickets.conftest import Api

    outsider = Api(app, make_user("hospital_it", organization=other_hospital))
    before = _counts()
    response = outsider.post("/tickets", ticket_body(contract))
    assert response.status_code == 422 and _fields(response) == {"contract_id"}
    assert outsider.post("/tickets", ticket_body(other_contract)).status_code == 201
    assert Ticket.select().count() == before[0] + 1


@pytest.mark.parametrize("body", [None, [], "text", {"contract_id": "1"}, {"unknown": 1}])
def test_malformed_bodies(app, contract, apis, body):
    before = _counts()
    response = apis["engineer"].post("/tickets", body)
    assert 400 <= response.status_code < 500 and response.get_json()["error"]["message"]
    assert _counts() == before


def test_not_json_and_too_large(app, contract, apis):
    api = apis["engineer"]
    assert api.call("POST", "/tickets", data="title=x", content_type="application/x-www-form-urlencoded").status_code == 415
    assert api.call("POST", "/tickets", data=b"{\xff", content_type="application/json").status_code == 400
    huge = ticket_body(contract, description="长" * (2 * 1024 * 1024))
    assert api.post("/tickets", huge).status_code == 413


def test_wrong_transition_inputs(app, contract, apis):
    eng, reporter = apis["engineer"], apis["reporter"]
    tid = reporter.post("/tickets", ticket_body(contract, priority="P2", reporter_name="")).get_json()["id"]
    now = datetime.now(timezone.utc)
    before = _counts()
    cases = [
        (eng, {"action": "resolve", "resolution": "x"}, 409),  # new: must be accepted first
        (reporter, {"action": "accept"}, 403),
        (eng, {"action": "accept", "at": (now + timedelta(hours=1)).isoformat()}, 422),
        (eng, {"action": "accept", "at": "2020-01-01T00:00:00+08:00"}, 422),  # before the created event
        (eng, {"action": "accept", "at": "yesterday"}, 422),
        (eng, {"action": "accept", "satisfaction": 9}, 422),
        (eng, {"action": "accept", "assignee_id": apis["reporter"].user.id}, 422),
        (eng, {"action": 7}, 422),
        (eng, {}, 422),
    ]
    for api, body, status in cases:
        response = api.post(f"/tickets/{tid}/transitions", body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"]["message"]
    assert _counts() == before
    assert eng.act(tid, "accept").status_code == 200
    assert eng.act(tid, "start").status_code == 200
    before = _counts()
    missing = eng.act(tid, "resolve")
    assert missing.status_code == 422 and _fields(missing) == {"resolution", "root_cause"}
    assert eng.act(tid, "wait_customer").status_code == 422  # a pause needs a reason
    assert _counts() == before
    assert eng.act(tid, "resolve", resolution="已修复").status_code == 422  # P2: root cause too
    assert eng.act(tid, "resolve", resolution="已修复", root_cause="补丁缺失").status_code == 200
    assert reporter.act(tid, "confirm").status_code == 422  # satisfaction required
    assert reporter.act(tid, "confirm", satisfaction=0).status_code == 422
    assert reporter.act(tid, "confirm", satisfaction=5).get_json()["satisfaction"] == 5


def test_unknown_ids_and_huge_ids_are_404(app, contract, apis):
    api = apis["engineer"]
    for path in ("/tickets/999999", "/tickets/99999999999999999999999"):
        assert api.get(path).status_code == 404
        assert api.post(path + "/transitions", {"action": "accept"}).status_code == 404
        assert api.post(path + "/comments", {"body": "x"}).status_code == 404


def test_list_filters_and_bad_filters(app, contract, apis):
    api = apis["engineer"]
    for priority in ("P1", "P2", "P3", "P3"):
        api.post("/tickets", ticket_body(contract, priority=priority))
    assert len(api.get("/tickets", query_string={"priority": "P3"}).get_json()["items"]) == 2
    assert len(api.get("/tickets", query_string={"status": "new", "contract_id": contract.id}).get_json()["items"]) == 4
    number = Ticket.select().first().number
    assert [t["number"] for t in api.get("/tickets", query_string={"q": number}).get_json()["items"]] == [number]
    assert len(api.get("/tickets", query_string={"q": "发票"}).get_json()["items"]) == 4
    for bad in ({"priority": "P7"}, {"status": "lost"}, {"contract_id": "x"}, {"limit": "0"}, {"cursor": "%%%"},
                {"assignee_id": "99999999999999999999999"}):
        response = api.get("/tickets", query_string=bad)
        assert 400 <= response.status_code < 500, bad
    first = api.get("/tickets", query_string={"limit": 3}).get_json()
    second = api.get("/tickets", query_string={"limit": 3, "cursor": first["next_cursor"]}).get_json()
    assert len(first["items"]) == 3 and len(second["items"]) == 1 and second["next_cursor"] is None


TEXT_FIELDS = ("title", "description", "reporter_name", "reporter_department", "reporter_phone")


def test_naughty_strings_in_every_text_field(app, contract, apis):
    """Each BLNS string in each text field of create, comment and resolve: stored exactly or a 4xx."""
    eng = apis["engineer"]
    stored = refused = 0
    for index, text in enumerate(BLNS):
        field = TEXT_FIELDS[index % len(TEXT_FIELDS)]
        body = ticket_body(contract, **{field: text})
        before = _counts()
        response = eng.post("/tickets", body)
        assert response.status_code < 500, (field, text)
        if response.status_code == 201:
            stored += 1
            got = response.get_json()
            assert got[field] == text, (field, text)
            tid = got["id"]
            comment = apis["hospital_it"].post(f"/tickets/{tid}/comments", {"body": text})
            assert comment.status_code in (201, 422), text
            if comment.status_code == 201:
                assert comment.get_json()["body"] == text
        else:
            refused += 1
            assert 400 <= response.status_code < 500 and response.get_json()["error"]["message"]
            assert _counts() == before
    assert stored > 400 and refused >= 0


def test_naughty_strings_in_resolution_and_comment_of_transitions(app, contract, apis):
    eng = apis["engineer"]
    tid = None
    for index, text in enumerate(BLNS):
        if index % 25 == 0:  # a fresh ticket now and then keeps each timeline realistic
            tid = eng.post("/tickets", ticket_body(contract)).get_json()["id"]
            eng.act(tid, "accept")
            eng.act(tid, "start")
        before = _counts()
        response = eng.act(tid, "resolve", resolution=text, comment=text)
        assert response.status_code < 500, text
        if response.status_code == 200:
            got = response.get_json()
            assert got["resolution"] == text and got["events"][-1]["body"] == text
            assert apis["hospital_it"].act(tid, "reopen", comment="问题再次出现").status_code == 200
            assert eng.act(tid, "start").status_code == 200
        else:
            assert response.status_code == 422 and _counts() == before
