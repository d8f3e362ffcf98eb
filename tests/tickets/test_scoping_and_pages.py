"""Org scoping (API, pages, admin: 404 and an audit row) and the people's pages."""

import logging
from contextlib import contextmanager

from portal.audit import AuditLog
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from tests.conftest import csrf_from
from tests.conftest import log_in
from tests.tickets.conftest import Api
from tests.tickets.conftest import ticket_body


def _denials():
    return AuditLog.select().where((AuditLog.action == "access_denied") & (AuditLog.object_type.in_(("Ticket",)))).count()


def _logged_in(app, user):
    client = app.test_client()
    assert log_in(client, user.username).status_code == 302
    return client


def test_another_hospitals_ticket_is_404_everywhere_and_audited(app, contract, other_contract, apis, make_user,
                                                                other_hospital, vendor):
    foreign = Api(app, make_user("hospital_it", organization=other_hospital))
    theirs = foreign.post("/tickets", ticket_body(other_contract)).get_json()["id"]
    mine = apis["hospital_it"].post("/tickets", ticket_body(contract)).get_json()["id"]
    for role in ("hospital_it", "reporter"):
        api = apis[role]
        before = _denials()
        assert api.get(f"/tickets/{theirs}").status_code == 404
        assert api.act(theirs, "confirm", satisfaction=5).status_code == 404
        assert api.post(f"/tickets/{theirs}/comments", {"body": "看看"}).status_code == 404
        assert _denials() == before + 3
        assert theirs not in [t["id"] for t in api.get("/tickets").get_json()["items"]]
    assert foreign.get(f"/tickets/{mine}").status_code == 404
    # The vendor serves both hospitals: its engineer sees both.
    assert apis["engineer"].get(f"/tickets/{theirs}").status_code == 200
    # Pages and admin.
    client = _logged_in(app, apis["hospital_it"].user)
    before = _denials()
    assert client.get(f"/tickets/{theirs}").status_code == 404
    assert client.get(f"/admin/ticket_admin/details/?id={theirs}").status_code == 404
    assert client.get(f"/admin/ticket_admin/details/?id={mine}").status_code == 200
    assert _denials() == before + 2
    listing = client.get("/admin/ticket_admin/").get_data(as_text=True)
    assert Ticket.get_by_id(mine).number in listing and Ticket.get_by_id(theirs).number not in listing
    token = csrf_from(client.get(f"/tickets/{mine}").get_data(as_text=True))
    events = TicketEvent.select().count()
    assert client.post(f"/tickets/{theirs}/comment", data={"body": "x", "csrf_token": token}).status_code == 404
    assert client.post(f"/tickets/{theirs}/act", data={"action": "close", "csrf_token": token}).status_code == 404
    assert TicketEvent.select().count() == events


def test_reporters_see_their_own_and_their_departments_tickets(app, contract, apis, make_user, department):
    colleague = Api(app, make_user("reporter", department=department))
    elsewhere = Api(app, make_user("reporter"))  # no department
    own = apis["reporter"].post("/tickets", ticket_body(contract, reporter_name="")).get_json()["id"]
    by_phone = apis["engineer"].post("/tickets", ticket_body(contract, reporter_department=department.name)).get_json()["id"]
    other_dept = apis["engineer"].post("/tickets", ticket_body(contract, reporter_department="药剂科")).get_json()["id"]
    assert {t["id"] for t in apis["reporter"].get("/tickets").get_json()["items"]} == {own, by_phone}
    assert {t["id"] for t in colleague.get("/tickets").get_json()["items"]} == {own, by_phone}
    assert {t["id"] for t in elsewhere.get("/tickets").get_json()["items"]} == set()
    assert apis["reporter"].get(f"/tickets/{other_dept}").status_code == 404
    assert {t["id"] for t in apis["hospital_it"].get("/tickets").get_json()["items"]} == {own, by_phone, other_dept}


def counts_tickets(seen):
    """Whether any query counted rows of the ticket table."""
    return [sql for sql in seen if "COUNT(" in sql.upper() and '"ticket"' in sql]


@contextmanager
def queries():
    """Collect the SQL peewee runs."""
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(str(record.msg[0]) if isinstance(record.msg, tuple) else str(record.getMessage()))

    logger = logging.getLogger("peewee")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_report_page_confirm_and_rate(app, contract, apis, users):
    reporter = _logged_in(app, users["reporter"])
    page = reporter.get("/tickets/new")
    assert page.status_code == 200 and "报告问题" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    bad = reporter.post("/tickets/new", data={"csrf_token": token, "contract_id": contract.id, "title": "",
                                               "priority": "P9", "category": "fault"})
    assert bad.status_code == 422 and Ticket.select().count() == 0
    assert "priority" in bad.get_data(as_text=True)
    made = reporter.post("/tickets/new", data={"csrf_token": token, "contract_id": contract.id, "title": "挂号窗口打印机卡纸",
                                                "description": "<script>alert(1)</script>", "priority": "P3",
                                                "category": "fault", "system_id": "", "reporter_phone": "1234"})
    assert made.status_code == 302
    ticket = Ticket.get()
    assert ticket.reporter_id == users["reporter"].id and ticket.reporter_name == "李护士长"
    detail = reporter.get(made.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail and "<script>alert(1)" not in detail
    assert 'value="accept"' not in detail  # a reporter may not accept
    # The engineer works it from the queue and the ticket page.
    engineer = _logged_in(app, users["engineer"])
    with queries() as seen:
        queue = engineer.get("/tickets/queue").get_data(as_text=True)
    assert ticket.number in queue and not counts_tickets(seen)
    page = engineer.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'value="accept"' in page and 'value="confirm"' not in page
    token = csrf_from(page)
    for action, extra in (("accept", {}), ("start", {}), ("resolve", {"resolution": "更换打印机色带"})):
        response = engineer.post(f"/tickets/{ticket.id}/act", data={"csrf_token": token, "action": action, **extra})
        assert response.status_code == 302
    assert Ticket.get_by_id(ticket.id).status == "resolved"
    refused = engineer.post(f"/tickets/{ticket.id}/act", data={"csrf_token": token, "action": "confirm",
                                                               "satisfaction": "5"}, follow_redirects=True)
    assert "不能" in refused.get_data(as_text=True) and Ticket.get_by_id(ticket.id).status == "resolved"
    # Back to the reporter: "my tickets" offers confirm-and-rate.
    with queries() as seen:
        mine = reporter.get("/tickets/mine").get_data(as_text=True)
    assert not counts_tickets(seen)
    assert "确认并评价" in mine and "更换打印机色带" in mine
    done = reporter.post(f"/tickets/{ticket.id}/act", data={"csrf_token": csrf_from(mine), "action": "confirm",
                                                            "satisfaction": "4", "next": "/tickets/mine"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/tickets/mine")
    ticket = Ticket.get_by_id(ticket.id)
    assert (ticket.status, ticket.satisfaction, ticket.confirmed_by_id) == ("closed", 4, users["reporter"].id)


def test_forms_without_csrf_are_refused(app, contract, apis, users):
    tid = apis["engineer"].post("/tickets", ticket_body(contract)).get_json()["id"]
    client = _logged_in(app, users["engineer"])
    assert client.post(f"/tickets/{tid}/act", data={"action": "accept"}).status_code == 400
    assert Ticket.get_by_id(tid).status == "new"


def test_admin_list_runs_no_count_and_nobody_edits_the_workflow(app, contract, apis, users):
    apis["engineer"].post("/tickets", ticket_body(contract))
    client = _logged_in(app, users["manager"])
    with queries() as seen:
        page = client.get("/admin/ticket_admin/?flt0_0=P3")
    assert page.status_code == 200
    assert not counts_tickets(seen), counts_tickets(seen)
    assert client.get("/admin/ticket_admin/new/").status_code in (302, 403)
    assert client.get(f"/admin/ticket_admin/edit/?id={Ticket.get().id}").status_code == 403


def test_page_for_each_role_renders(app, contract, apis, users):
    tid = apis["engineer"].post("/tickets", ticket_body(contract, reporter_department="门诊部")).get_json()["id"]
    for role, user in users.items():
        client = _logged_in(app, user)
        assert client.get(f"/tickets/{tid}").status_code == 200, role
        assert client.get("/tickets/mine").status_code == 200, role
        expected_queue = 200 if role in ("engineer", "manager", "hospital_it", "admin") else 403
        assert client.get("/tickets/queue").status_code == expected_queue, role
        assert client.get("/tickets/new").status_code == 200, role


def test_prepared_api_list_gives_each_viewer_exactly_the_visible_tickets(app, contract, other_contract, apis, make_user,
                                                                       department, other_hospital):
    """The list's SQL is written once per viewer shape (portal/prepared.py): every role, filter,
    search and cursor page must still give what ``service.visible`` gives that user."""
    from portal.accounts.models import User
    from portal.tickets import search
    from portal.tickets.service import visible

    other_it = Api(app, make_user("hospital_it", organization=other_hospital))
    viewers = {**apis, "reporter without department": Api(app, make_user("reporter")), "other hospital IT": other_it}
    for index in range(9):
        priority, title = ("P2", "挂号窗口打印机卡纸") if index % 3 == 0 else ("P3", "医保结算失败")
        apis["reporter" if index % 2 else "engineer"].post("/tickets", ticket_body(contract, priority=priority, title=title))
        other_it.post("/tickets", ticket_body(other_contract, priority=priority, title=title))
    queries = {"": None, "priority=P2": Ticket.priority == "P2", "status=new": Ticket.status == "new",
               "q=打印机": search.matching("打印机"), "priority=P3&q=医保": (Ticket.priority == "P3") & search.matching("医保")}
    for name, api in viewers.items():
        user = User.get_by_id(api.user.id)
        for args, condition in queries.items():
            seen, cursor = [], None
            while True:
                page = api.get(f"/tickets?limit=4&{args}" + (f"&cursor={cursor}" if cursor else "")).get_json()
                seen += [item["id"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            expected = visible(Ticket.select(Ticket.id), user)
            expected = expected.where(condition) if condition is not None else expected
            assert seen == [t.id for t in expected.order_by(Ticket.id.desc())], (name, args)
    assert len(seen) > 0


def test_a_list_item_is_the_ticket_as_its_own_endpoint_shows_it(app, contract, apis):
    """The list reads every column as stored (api.LIST_COLUMNS: flags 0/1 and times as text on
    SQLite, written by values_json): every value, type included, must be what GET /tickets/<id>
    answers, and a search's items the same."""
    engineer = apis["engineer"]
    made = [engineer.post("/tickets", ticket_body(contract, priority=priority)).get_json()["id"] for priority in ("P1", "P3")]
    assert engineer.act(made[0], "accept").status_code == 200
    Ticket.update(response_breached=True, sla_level=90, satisfaction=4, paused_minutes=17).where(
        Ticket.id == made[0]).execute()
    listed = {item["id"]: item for item in engineer.get("/tickets").get_json()["items"]}
    for ticket_id in made:
        single = engineer.get(f"/tickets/{ticket_id}").get_json()
        single.pop("events")
        assert listed[ticket_id] == single
        assert [type(value) for value in listed[ticket_id].values()] == [type(value) for value in single.values()]
    assert listed[made[0]]["response_breached"] is True and listed[made[1]]["response_breached"] is False
    assert listed[made[0]]["accepted_at"] and listed[made[0]]["assignee_id"] == engineer.user.id
    number = listed[made[0]]["number"]
    assert engineer.get(f"/tickets?q={number}").get_json()["items"] == [listed[made[0]]]
