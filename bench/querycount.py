"""Count the SQL statements a request runs, so a test can assert "no N+1" on list pages.

peewee logs every statement it executes at DEBUG on the ``peewee`` logger, as ``(sql, params)``;
:func:`count_queries` attaches a handler for the duration of a block and collects them::

    with count_queries() as queries:
        client.get("/admin/ticket_admin/")
    assert len(queries) <= 8, queries.statements

Only statements executed through peewee are seen (raw ``cursor.execute`` on the driver
connection is not), which covers every query of the portal's pages. The logger's level is
raised to DEBUG only while counting and restored afterwards.
"""

import logging
import threading
from contextlib import contextmanager

LOGGER = logging.getLogger("peewee")


class QueryLog:
    """The statements seen while counting: ``len()``, ``statements`` and ``by_table()``."""

    def __init__(self):
        self.statements = []

    def __len__(self):
        return len(self.statements)

    def __iter__(self):
        return iter(self.statements)

    def selects(self):
        return [sql for sql, _ in self.statements if sql.lstrip().upper().startswith("SELECT")]

    def by_table(self):
        """{first table after FROM/INTO/UPDATE: count}: a quick way to see which query repeats."""
        import re

        counts = {}
        for sql, _ in self.statements:
            match = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
            name = match.group(1) if match else "?"
            counts[name] = counts.get(name, 0) + 1
        return counts

    def repeated(self, threshold=3):
        """Statement shapes (SQL text without parameters) run at least *threshold* times: N+1 suspects."""
        shapes = {}
        for sql, _ in self.statements:
            shapes[sql] = shapes.get(sql, 0) + 1
        return {sql: n for sql, n in shapes.items() if n >= threshold}


class _Collector(logging.Handler):
    def __init__(self, log, thread_id):
        super().__init__(logging.DEBUG)
        self.log = log
        self.thread_id = thread_id

    def emit(self, record):
        if self.thread_id is not None and record.thread != self.thread_id:
            return
        message = record.msg
        # Statements are logged as (sql, params); other peewee lines (the connection pool's
        # "Returning … to pool", on the child logger peewee.pool) are not statements.
        if isinstance(message, tuple) and len(message) == 2:
            self.log.statements.append((str(message[0]), message[1]))


@contextmanager
def count_queries(this_thread_only=True):
    """Collect the statements peewee executes inside the block (in this thread by default)."""
    log = QueryLog()
    handler = _Collector(log, threading.get_ident() if this_thread_only else None)
    previous_level, previous_propagate = LOGGER.level, LOGGER.propagate
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.DEBUG)
    LOGGER.propagate = False  # keep the statements out of the app's log while counting
    try:
        yield log
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(previous_level)
        LOGGER.propagate = previous_propagate


def queries_per_request(client, method, url, **kwargs):
    """Run one request through a Flask test client; return (response, QueryLog)."""
    with count_queries() as log:
        response = client.open(url, method=method, **kwargs)
    return response, log
