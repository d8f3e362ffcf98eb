"""The scale-out configuration, for real: `gunicorn --workers 4 'portal.wsgi:app'` and two
`weibao worker` processes (README "Scale-out"), on PostgreSQL + Redis and on one server's SQLite
file + SQLite queue, started at once on a fresh instance folder, then 50 users creating, accepting
and commenting on tickets for 15 s.

Checked: every response the expected 2xx, every acknowledged write stored with its events,
distinct ticket numbers, requests spread over several gunicorn workers, a log-in made on one
worker accepted by the others (one secret key), the e-mails those writes cause delivered by the
worker processes exactly once, and each periodic task enqueued once per minute between the two.
"""

import importlib.util
import os
import re
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from portal import create_app
from portal.db import db
from tests.conftest import IN_CI
from tests.conftest import service_url
from tests.notify.consumer import wait_until
from tests.notify.receivers import SmtpReceiver
from tests.notify.receivers import free_port

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import generate
import load
from servers import ScaleOut
from textpool import Pools

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

USERS = 50
WRITE_SECONDS = 15
MANAGER_EMAIL = "pm01@aoyu.example.cn"
PERIODIC = re.compile(r"periodic tasks of (\S+) \(pid (\d+)\): enqueued (.*); already claimed: (.*)$")
EXECUTING = re.compile(r"Executing \S*?([a-z_]+\.[a-z_]+): ")


def require_gunicorn():
    """Skip without gunicorn locally; fail in CI."""
    if importlib.util.find_spec("gunicorn") is None:
        if IN_CI:
            pytest.fail("gunicorn is not installed (required in CI: pip install -e '.[test]')")
        pytest.skip("gunicorn is not installed")


@pytest.fixture
def database():
    """A database of its own (the processes connect by URL, so no per-test schema), dropped after."""
    import psycopg2

    base = service_url("WEIBAO_TEST_DATABASE_URL")
    name = f"weibao_scaleout_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlparse(base)._replace(path="/" + name).geturl()
    finally:
        if not db.is_closed():
            db.close()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def queue():
    """The Redis URL and a queue name of this test's own (other tests share the Redis)."""
    from portal.queue import huey_for

    url = service_url("WEIBAO_TEST_REDIS_URL")
    name = f"weibao-scaleout-{uuid.uuid4().hex[:8]}"
    yield url, name
    huey = huey_for(url, None, name=name)
    huey.flush()
    for key in huey.storage.conn.scan_iter(f"{name}.*"):
        huey.storage.conn.delete(key)


@pytest.fixture
def smtp():
    server = SmtpReceiver().start()
    yield server
    server.stop()


def _init(url, instance):
    """`weibao init`, as an operator runs it before starting the processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIBAO_")}
    env.update(WEIBAO_DATABASE_URL=url, WEIBAO_INSTANCE_PATH=str(instance))
    done = subprocess.run([sys.executable, "-m", "portal.cli", "init"], check=False, env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "applied" in done.stdout


def _populate(url, smtp_port, monkeypatch, tmp_path):
    """The bench's vendor (50 engineers, 2 managers) and 2 hospitals with contracts; a token per
    engineer; pm01 gets e-mail through the local SMTP receiver. Returns the setup app and ids."""
    from portal.accounts.commands import create_token
    from portal.accounts.models import User
    from portal.notify.models import ChannelConfig

    for name in [name for name in os.environ if name.startswith("WEIBAO_")]:
        if not name.startswith("WEIBAO_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WEIBAO_INSTANCE_PATH", str(tmp_path / "setup-instance"))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "setup-only", "QUEUE_IMMEDIATE": True, "TESTING": True})
    with app.app_context():
        db.connect(reuse_if_open=True)
        ref = generate.load_reference_rows(2, Pools())
        tokens = [create_token(f"eng{index:02d}", name="scale-out") for index in range(1, USERS + 1)]
        User.update(email=MANAGER_EMAIL).where(User.username == "pm01").execute()
        ChannelConfig.create(name="smtp", kind="email", settings={
            "host": "127.0.0.1", "port": smtp_port, "security": "none", "from_addr": "weibao@aoyu.example.cn"})
        db.close()
    return app, tokens, [hospital["contract"] for hospital in ref["hospitals"]]


def _log_in_and_probe(cluster, probes=40):
    """Log in on whichever worker takes the POST; use the cookie from many connections at once."""
    session = requests.Session()
    html = session.get(cluster.base + "/login?probe=form", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = session.post(cluster.base + "/login?probe=login", data={
        "username": "pm01", "password": generate.PASSWORD, "csrf_token": token}, allow_redirects=False, timeout=60)
    assert response.status_code == 302, response.text[:500]
    cookies = session.cookies.get_dict()
    answers = [None] * probes

    def probe(index):
        answer = requests.get(f"{cluster.base}/profile?probe=cookie-{index}", cookies=cookies, timeout=60,
                              allow_redirects=False)
        answers[index] = (answer.status_code, "pm01" in answer.text)

    threads = [threading.Thread(target=probe, args=(index,)) for index in range(probes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _served_by(cluster, marker, count):
    """{pid} of the access-log lines whose path contains *marker*, once *count* are logged."""
    wait_until(lambda: sum(marker in path for _pid, _m, path, _s in cluster.served()) >= count, 10)
    return {pid for pid, _method, path, _status in cluster.served() if marker in path}


def _periodic_checks(cluster):
    """[(slot, pid, enqueued names, names left to the other consumer)] from the workers' logs."""
    checks = []
    for index in range(1, cluster.queue + 1):
        for line in cluster.worker_log(index).read_text(errors="replace").splitlines():
            match = PERIODIC.search(line)
            if match:
                slot, pid, mine, theirs = match.groups()
                checks.append((slot, int(pid), set(mine.split(", ")) - {"-"}, set(theirs.split(", ")) - {"-"}))
    return checks


def _executions(cluster):
    """{(worker index, task name): executions} from the workers' logs."""
    counts = Counter()
    for index in range(1, cluster.queue + 1):
        for line in cluster.worker_log(index).read_text(errors="replace").splitlines():
            match = EXECUTING.search(line)
            if match:
                counts[index, match.group(1)] += 1
    return counts


def _email_statuses(app):
    from portal.notify.models import Notification

    with app.app_context():
        db.connect(reuse_if_open=True)
        rows = list(Notification.select(Notification.status, Notification.idempotency_key)
                    .where(Notification.channel == "email").tuples())
        db.close()
    return rows


@pytest.fixture(params=["postgres+redis", "sqlite+sqlite-queue"])
def stack(request, tmp_path):
    """(database URL, the processes' queue settings): the vendor's PostgreSQL + Redis, or one
    hospital server's SQLite file with the SQLite queue in the shared instance folder."""
    if request.param == "postgres+redis":
        redis_url, queue_name = request.getfixturevalue("queue")
        return request.getfixturevalue("database"), {"WEIBAO_QUEUE_URL": redis_url, "WEIBAO_QUEUE_NAME": queue_name}
    return f"sqlite:///{tmp_path / 'weibao.db'}", {}


def test_gunicorn_four_workers_and_two_queue_workers(stack, smtp, tmp_path, monkeypatch):
    require_gunicorn()
    database, queue_settings = stack
    _init(database, tmp_path / "init-instance")
    app, tokens, contracts = _populate(database, smtp.port, monkeypatch, tmp_path)
    instance = tmp_path / "instance"  # fresh: the six processes race to create its secret key
    cluster = ScaleOut({"WEIBAO_DATABASE_URL": database, **queue_settings, "WEIBAO_INSTANCE_PATH": str(instance),
                        "WEIBAO_LOG_LEVEL": "INFO"}, free_port(), tmp_path / "logs")
    try:
        cluster.start().wait_ready()
        web_pids = set(cluster.web_pids())
        assert len(web_pids) == 4

        # One secret key for all: the log-in's cookie works on every worker that answers.
        answers = _log_in_and_probe(cluster)
        assert answers == [(200, True)] * len(answers)
        login_pid = _served_by(cluster, "probe=login", 1)
        probe_pids = _served_by(cluster, "probe=cookie-", len(answers))
        assert probe_pids <= web_pids and probe_pids - login_pid, (login_pid, probe_pids)
        assert len((instance / "secret_key").read_text().strip()) == 64

        # 50 users writing for 15 s: no error, nothing lost, every number distinct.
        run = load.write_run(cluster.base, tokens, contracts, WRITE_SECONDS, tag=f"SCALE{uuid.uuid4().hex[:6]}")
        assert run["errors"] == 0, run["error_samples"]
        assert run["acknowledged"]["create"] >= USERS
        with app.app_context():
            db.connect(reuse_if_open=True)
            check = load.verify_writes(run, db)
            db.close()
        assert check["tickets_stored"] == check["tickets_acknowledged"] == run["acknowledged"]["create"]
        assert check["lost_tickets"] == check["lost_accepts"] == check["lost_comments"] == 0, check
        assert check["unacknowledged_tickets"] == check["duplicate_numbers"] == 0, check
        assert check["accept_events_stored"] == check["accepted_status_stored"] == run["acknowledged"]["accept"]
        assert check["comment_events_stored"] == run["acknowledged"]["comment"]
        writers = Counter(pid for pid, method, path, status in cluster.served()
                          if method == "POST" and path.startswith("/api/v1/tickets"))
        assert set(writers) <= web_pids and len(writers) > 1, writers
        assert sum(writers.values()) == sum(run["acknowledged"].values())

        # The e-mails those writes caused (one per new ticket, to pm01): all sent by the workers,
        # each received once, and both worker processes took part.
        assert wait_until(lambda: {status for status, _key in _email_statuses(app)} == {"sent"}
                          and len(smtp.messages) >= len(_email_statuses(app)), 120, interval=1)
        emails = _email_statuses(app)
        assert len(emails) >= run["acknowledged"]["create"]
        assert smtp.keys() == Counter(key for _status, key in emails)
        executions = _executions(cluster)
        assert executions[1, "notify.deliver"] and executions[2, "notify.deliver"], executions
        web_output = (cluster.logs / "gunicorn.log").read_text() + (cluster.logs / "gunicorn.out").read_text()
        assert "Executing" not in web_output  # no consumer inside the web processes

        # Periodic tasks: wait until both schedulers have asked about the same minute (at start-up
        # when they start within one minute, else a minute later), then check each task was enqueued
        # by one of them per minute and ran exactly that often.
        def contested():
            pids_by_slot = defaultdict(set)
            for slot, pid, _mine, _theirs in _periodic_checks(cluster):
                pids_by_slot[slot].add(pid)
            return any(len(pids) == 2 for pids in pids_by_slot.values())

        assert wait_until(contested, 90, interval=1), _periodic_checks(cluster)
        enqueued = Counter()
        for slot in {slot for slot, *_ in _periodic_checks(cluster)}:
            checks = [check for check in _periodic_checks(cluster) if check[0] == slot]
            names = [name for _slot, _pid, mine, _theirs in checks for name in mine]
            assert len(names) == len(set(names)), f"{slot}: enqueued twice: {checks}"
            assert set(names) == checks[0][2] | checks[0][3], f"{slot}: not all enqueued: {checks}"
            enqueued.update(names)
        assert enqueued["tickets.sla_sweep"] >= 1 and enqueued["notify.sweep"] >= 1
        assert wait_until(lambda: all(
            sum(count for (_index, name), count in _executions(cluster).items() if name == task) == times
            for task, times in enqueued.items()), 30, interval=0.5), (enqueued, _executions(cluster))
    finally:
        cluster.stop()

