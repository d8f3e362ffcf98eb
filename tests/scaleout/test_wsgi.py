"""portal.wsgi, the gunicorn entry point, and `weibao worker` never migrate (several processes
would race): they refuse to start on a database `weibao init` has not upgraded, naming the command."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scaleout.test_scaleout import require_gunicorn

ROOT = Path(__file__).resolve().parents[2]


NEEDS_INIT = "the database needs upgrading first: run `weibao init`"


def _run(args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIBAO_")}
    env.update(WEIBAO_INSTANCE_PATH=str(tmp_path / "instance"), WEIBAO_KB_WARM_UP="false",
               WEIBAO_DATABASE_URL=f"sqlite:///{tmp_path / 'weibao.db'}", XDG_RUNTIME_DIR=str(tmp_path))
    return subprocess.run([sys.executable, "-m", *args], check=False, env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def _assert_not_migrated(database):
    """No migration ran (the check only makes its own bookkeeping table): that is `weibao init`'s job."""
    connection = sqlite3.connect(database)
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables <= {"schema_version"}
    assert not tables or connection.execute("SELECT count(*) FROM schema_version").fetchone() == (0,)
    connection.close()


@pytest.mark.slow
def test_gunicorn_refuses_to_start_before_weibao_init(tmp_path):
    require_gunicorn()
    done = _run(["gunicorn", "--workers", "2", "--bind", "127.0.0.1:0", "portal.wsgi:app"], tmp_path)
    assert done.returncode != 0
    assert NEEDS_INIT in done.stderr
    assert "Worker failed to boot" in done.stderr
    _assert_not_migrated(tmp_path / "weibao.db")


@pytest.mark.slow
def test_a_queue_worker_refuses_to_start_before_weibao_init(tmp_path):
    done = _run(["portal.cli", "worker"], tmp_path)
    assert done.returncode == 1
    assert f"Error: {NEEDS_INIT}" in done.stderr
    _assert_not_migrated(tmp_path / "weibao.db")
