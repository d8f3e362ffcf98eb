"""`weibao init` on SQLite ends with PRAGMA optimize (bench/README.md bottleneck 10: SQLite never
gathers planner statistics by itself). Here because the bench handed it over with the ticket fixes."""

import logging
import os
import threading

import pytest
from click.testing import CliRunner

from portal import cli
from portal.db import db


def test_init_runs_pragma_optimize_on_sqlite(tmp_path, monkeypatch):
    if os.environ.get("WEIBAO_TEST_BACKEND", "sqlite") == "postgres":
        pytest.skip("SQLite only (PostgreSQL's autovacuum analyses)")
    for name in list(os.environ):
        if name.startswith("WEIBAO_") and not name.startswith("WEIBAO_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WEIBAO_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("WEIBAO_KB_WARM_UP", "false")  # no background jieba load in the test process
    seen, thread = [], threading.get_ident()

    class Collect(logging.Handler):
        def emit(self, record):
            if record.thread == thread and isinstance(record.msg, tuple):
                seen.append(str(record.msg[0]))

    logger = logging.getLogger("peewee")
    handler, level = Collect(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        result = CliRunner().invoke(cli.main, ["init"], catch_exceptions=False)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        if not db.is_closed():
            db.close()
    assert result.exit_code == 0 and "applied" in result.output, result.output
    assert "PRAGMA optimize" in seen
    # After the migrations, outside their transactions.
    assert seen.index("PRAGMA optimize") > max(i for i, sql in enumerate(seen) if sql.startswith("INSERT"))
