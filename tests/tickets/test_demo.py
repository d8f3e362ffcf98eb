"""The demo loader: a few hundred consistent tickets on the seed-004 contract."""

import time

from portal.db import db
from portal.demo import load_demo
from portal.tickets import chain
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from portal.tickets.workflow import TRANSITIONS


def test_demo_tickets_are_many_varied_and_consistent(app):
    started = time.perf_counter()
    with app.app_context():
        logins = load_demo(app)
        db.close()
    print(f"\ndemo loaded in {time.perf_counter() - started:.1f}s")
    assert logins
    tickets = list(Ticket.select())
    assert 250 <= len(tickets) <= 400
    by_status = {}
    for ticket in tickets:
        by_status[ticket.status] = by_status.get(ticket.status, 0) + 1
    assert {"closed", "resolved", "waiting_authorization"} <= set(by_status), by_status
    assert sum(t.resolve_breached for t in tickets) >= 10
    assert sum(t.response_breached for t in tickets) >= 10
    assert sum(t.paused_minutes > 0 for t in tickets) >= 20
    assert sum(t.satisfaction is not None for t in tickets) >= 100
    assert len({t.title for t in tickets}) >= 20 and all(t.resolve_due for t in tickets)
    with app.app_context():
        assert chain.verify() == [] and chain.DataChangeRecord.select().count() >= 10
        db.close()
    for ticket in tickets:
        events = list(TicketEvent.select().where((TicketEvent.ticket == ticket.id)
                                                 & TicketEvent.kind.not_in(("comment", "sla_warning", "sla_breached")))
                      .order_by(TicketEvent.at, TicketEvent.id))
        assert events[0].kind == "created" and events[0].at == ticket.reported_at
        status = "new"
        for event in events[1:]:
            if event.kind in TRANSITIONS:
                assert event.from_status == status, (ticket.number, event.kind)
                status = event.to_status
        assert status == ticket.status, ticket.number
