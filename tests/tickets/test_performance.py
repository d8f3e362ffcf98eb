"""Query shapes found by the bench (bench/README.md, "Bottlenecks"): indexes the queue uses,
bounded statement counts on list and ticket pages, capped deep pages."""

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
