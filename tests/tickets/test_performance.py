"""Query shapes found by the bench (bench/README.md, "Bottlenecks"): indexes the queue uses,
bounded statement counts on list and ticket pages, capped deep pages."""

import itertools
import logging
import threading
from contextlib import contextmanager

import pytest

from portal.db import db
from portal.db import is_postgres
from portal.tickets import plugin as tickets_plugin
from tests.conftest import log_in


@contextmanager
def statements():
    """Collect (sql, params) of every statement peewee runs in this thread (bench/querycount.py)."""
    seen = []
    thread = threading.get_ident()

    class Collect(logging.Handler):
        def emit(self, record):
            if record.thread == thread and isinstance(record.msg, tuple) and len(record.msg) == 2:
                seen.append((str(record.msg[0]), record.msg[1]))

    logger = logging.getLogger("peewee")
    handler, level, propagate = Collect(logging.DEBUG), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _logged_in(app, user):
    client = app.test_client()
    assert log_in(client, user.username).status_code == 302
    return client


QUEUE_INDEXES = {"ticket_vendor_id_status_resolve_due", "ticket_hospital_id_status_resolve_due"}


def _index_names(app):
    with app.app_context():
        db.connect(reuse_if_open=True)
        return {index.name for index in db.get_indexes("ticket")}


def test_queue_indexes_exist_and_the_migration_recreates_them(app):
    assert QUEUE_INDEXES <= _index_names(app)
    with app.app_context():
        db.connect(reuse_if_open=True)
        for name in QUEUE_INDEXES:
            db.execute_sql(f"DROP INDEX {name}")
        with db.atomic():
            tickets_plugin.queue_indexes(db)
            tickets_plugin.queue_indexes(db)  # idempotent: IF NOT EXISTS
    assert QUEUE_INDEXES <= _index_names(app)


@pytest.mark.parametrize("role", ["engineer", "hospital_it"])
def test_engineer_queue_reads_the_status_index(app, contract, users, role):
    if is_postgres():
        pytest.skip("SQLite plan (PostgreSQL picks ticket_status with a top-N sort, 13 ms at 100k)")
    client = _logged_in(app, users[role])
    with statements() as seen:
        assert client.get("/tickets/queue").status_code == 200
    queue = [(sql, params) for sql, params in seen
             if sql.lstrip().upper().startswith("SELECT") and 'FROM "ticket"' in sql and "ORDER BY CASE" in sql]
    assert len(queue) == 1, seen
    sql, params = queue[0]
    expected = "ticket_vendor_id_status_resolve_due" if role == "engineer" else "ticket_hospital_id_status_resolve_due"
    with app.app_context():
        db.connect(reuse_if_open=True)
        plan = " ".join(str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert expected in plan, plan


_NUMBERS = itertools.count(100000)


def _clone_tickets(app, source_id, count, **fields):
    """Insert *count* copies of a ticket (new numbers), with *fields* overridden."""
    from portal.tickets.models import Ticket

    with app.app_context():
        db.connect(reuse_if_open=True)
        source = Ticket.get_by_id(source_id).__data__
        rows = []
        for n in range(count):
            row = {k: v for k, v in source.items() if k != "id"}
            row.update(number=f"T2020-{next(_NUMBERS):06d}", **fields)
            rows.append(row)
        with db.atomic():
            Ticket.insert_many(rows).execute()


def _comments(app, ticket_id, actors, count):
    from portal.tickets.models import TicketEvent

    with app.app_context():
        db.connect(reuse_if_open=True)
        with db.atomic():
            TicketEvent.insert_many([{"ticket": ticket_id, "kind": "comment", "actor": actors[n % len(actors)].id,
                                      "body": f"第{n}条"} for n in range(count)]).execute()


def _statement_count(client, url):
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(seen), [sql for sql, _ in seen]


def test_list_and_ticket_pages_run_a_bounded_number_of_statements(app, contract, other_contract, users, apis,
                                                                  make_user, vendor):
    engineers = [users["engineer"]] + [make_user("engineer", organization=vendor) for _ in range(3)]
    first = apis["hospital_it"].post("/tickets", {
        "contract_id": contract.id, "title": "挂号窗口打印失败", "category": "fault", "priority": "P3"}).get_json()["id"]
    counts = {}
    for role in ("admin", "hospital_it", "engineer"):
        client = _logged_in(app, users[role])
        counts[role, "list", 1] = _statement_count(client, "/admin/ticket_admin/")
        counts[role, "page", 1] = _statement_count(client, f"/tickets/{first}")
    # 50 more tickets, each with a (different) assignee, half at another hospital; 20 comments by 4 people.
    for n, engineer in enumerate(engineers):
        _clone_tickets(app, first, 13, assignee=engineer.id,
                       **({"hospital": other_contract.hospital_id, "contract": other_contract.id} if n % 2 else {}))
    _comments(app, first, engineers + [users["hospital_it"]], 20)
    for role in ("admin", "hospital_it", "engineer"):
        client = _logged_in(app, users[role])
        listed = _statement_count(client, "/admin/ticket_admin/")
        page = _statement_count(client, f"/tickets/{first}")
        # Independent of the number of rows and events, and small.
        assert listed[0] == counts[role, "list", 1][0] <= 12, listed[1]
        assert page[0] == counts[role, "page", 1][0] <= 12, page[1]
        # The list and page never read password hashes.
        assert not any("password_hash" in sql for sql in listed[1] + page[1] if "FROM \"ticket" in sql)
