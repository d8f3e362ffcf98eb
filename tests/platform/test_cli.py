"""The `weibao` command as operators and scripts use it, run in a real subprocess."""

import os
import sqlite3
import subprocess
import sys
import uuid

import pytest
from playhouse.db_url import connect as connect_url

from tests.conftest import IN_CI
from tests.conftest import service_url


def weibao(instance, *args, check=True):
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEIBAO_")}
    env["WEIBAO_INSTANCE_PATH"] = str(instance)
    env["WEIBAO_ARGON2_TIME_COST"] = "1"
    env["WEIBAO_ARGON2_MEMORY_KIB"] = "8192"
    env["WEIBAO_ARGON2_PARALLELISM"] = "1"
    completed = subprocess.run([sys.executable, "-m", "portal.cli", *args], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"


def test_init_creates_then_keeps_data(instance):
    assert "applied" in weibao(instance, "init").stdout
    weibao(instance, "create-user", "zhang", "--role", "engineer", "--password", "a good password", "--org", "南宁翱宇科技有限公司")
    second = weibao(instance, "init").stdout
    assert "applied 0 migration(s)" in second
    rows = sqlite3.connect(instance / "weibao.db").execute("SELECT username FROM user").fetchall()
    assert rows == [("zhang",)]


def test_secret_key_is_generated_once_with_mode_0600(instance):
    weibao(instance, "init")
    key_file = instance / "secret_key"
    first = key_file.read_text()
    weibao(instance, "init")
    assert key_file.read_text() == first
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_create_token_prints_the_token_last(instance):
    weibao(instance, "init")
    weibao(instance, "create-user", "api", "--role", "admin", "--password", "a good password")
    token = weibao(instance, "create-token", "api").stdout.strip().splitlines()[-1]
    assert token.startswith("wb_") and len(token) > 30


def test_create_user_refuses_bad_input_without_writing(instance):
    weibao(instance, "init")
    short = weibao(instance, "create-user", "x", "--role", "engineer", "--password", "short", check=False)
    assert short.returncode != 0 and "8 to 256" in short.stderr
    bad_role = weibao(instance, "create-user", "x", "--role", "king", "--password", "a good password", check=False)
    assert bad_role.returncode != 0
    assert sqlite3.connect(instance / "weibao.db").execute("SELECT count(*) FROM user").fetchone() == (0,)


def test_demo_loads_once_and_prints_logins(instance):
    first = weibao(instance, "demo", "--no-run").stdout
    assert "admin" in first and "weibao-demo-2026" in first
    again = weibao(instance, "demo", "--no-run").stdout
    assert "already has data" in again


def test_backup_and_restore_round_trip(instance, tmp_path):
    weibao(instance, "demo", "--no-run")
    backup = tmp_path / "backup.db"
    weibao(instance, "backup", str(backup))
    database = sqlite3.connect(instance / "weibao.db")
    database.execute("DELETE FROM department")
    database.commit()
    database.close()
    weibao(instance, "restore", str(backup), "--yes")
    count = sqlite3.connect(instance / "weibao.db").execute("SELECT count(*) FROM department").fetchone()[0]
    assert count > 0


def test_restore_refuses_a_file_that_is_not_a_backup(instance, tmp_path):
    weibao(instance, "init")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = weibao(instance, "restore", str(junk), "--yes", check=False)
    assert result.returncode != 0
    assert "not" in result.stderr


@pytest.mark.postgres
def test_backup_on_postgresql_uses_pg_dump(tmp_path):
    """pg_dump of a database of the test's own (other tests create and drop schemas meanwhile)."""
    base = service_url("WEIBAO_TEST_DATABASE_URL")
    if not IN_CI and subprocess.run(["which", "pg_dump"], capture_output=True).returncode != 0:
        pytest.skip("pg_dump missing")
    name = "weibao_backup_" + uuid.uuid4().hex[:10]
    server = connect_url(base)
    server.execute_sql(f"CREATE DATABASE {name}")
    try:
        url = base.rsplit("/", 1)[0] + "/" + name
        env = {key: value for key, value in os.environ.items() if not key.startswith("WEIBAO_")}
        env.update(WEIBAO_INSTANCE_PATH=str(tmp_path), WEIBAO_DATABASE_URL=url)
        for command in (["init"], ["backup", str(tmp_path / "pg.dump")]):
            completed = subprocess.run([sys.executable, "-m", "portal.cli", *command], env=env,
                                       capture_output=True, text=True, timeout=300)
            assert completed.returncode == 0, completed.stderr
        assert (tmp_path / "pg.dump").read_bytes()[:5] == b"PGDMP"
    finally:
        server.execute_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.close()


@pytest.mark.slow
def test_wheel_ships_catalogs_templates_and_static_files(tmp_path):
    """A plain pip install from a clean clone must have compiled catalogs: no compile step runs there."""
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    completed = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(root)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    names = zipfile.ZipFile(next(tmp_path.glob("weibao-*.whl"))).namelist()
    assert "portal/translations/zh_Hans_CN/LC_MESSAGES/messages.mo" in names
    assert "portal/templates/accounts/login.html" in names
    assert "portal/static/weibao.css" in names
    assert "plugins/example/translations/zh_Hans_CN/LC_MESSAGES/messages.mo" in names


@pytest.mark.slow
def test_weibao_run_serves_the_portal_and_stops_on_sigterm(instance):
    import signal
    import socket
    import time
    import urllib.request

    weibao(instance, "demo", "--no-run")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEIBAO_")}
    env["WEIBAO_INSTANCE_PATH"] = str(instance)
    server = subprocess.Popen([sys.executable, "-m", "portal.cli", "run", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
                    health = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.3)
        assert '"status":"ok"' in health.replace(" ", "")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert "登录" in response.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
