"""Shared fixtures: a fresh app per test on a temporary SQLite file (or a fresh PostgreSQL schema).

Set WEIBAO_TEST_BACKEND=postgres to run the whole suite on PostgreSQL (WEIBAO_TEST_DATABASE_URL).
Under CI=true a missing service fails the run instead of skipping.
"""

import json
import os
import re
import uuid
from pathlib import Path

import jinja2
import pytest
from peewee import PostgresqlDatabase
from playhouse.db_url import connect as connect_url

from portal import create_app
from portal.accounts import commands
from portal.accounts.models import Department
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.db import close_pool
from portal.db import db
from portal.migrations import upgrade

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# shared/ sits beside the repository (CI clones main next to it); /work/shared on a developer machine.
_BESIDE = Path(__file__).resolve().parents[2] / "shared"
SHARED = _BESIDE if _BESIDE.is_dir() else Path("/work/shared")
BLNS_PATH = SHARED / "data" / "blns.json"


def blns_strings():
    """Return the Big List of Naughty Strings (shared/data/blns.json)."""
    return json.loads(BLNS_PATH.read_text(encoding="utf-8"))
PASSWORD = "correct horse 9"
_HASH = hash_password(PASSWORD)


def service_url(variable):
    """Return the URL in *variable*; skip without it locally, fail without it in CI."""
    url = os.environ.get(variable)
    if not url:
        message = f"{variable} is not set"
        if IN_CI:
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    return url


@pytest.fixture
def database_url(tmp_path):
    """A database for one test: a SQLite file, or a new schema on the test PostgreSQL server."""
    if os.environ.get("WEIBAO_TEST_BACKEND", "sqlite") != "postgres":
        yield f"sqlite:///{tmp_path / 'weibao-test.db'}"
        return
    base = service_url("WEIBAO_TEST_DATABASE_URL")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = connect_url(base)
    admin.execute_sql(f"CREATE SCHEMA {schema}")
    admin.close()
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    if isinstance(db.obj, PostgresqlDatabase) and not db.is_closed():
        db.close()
    admin = connect_url(base)
    admin.execute_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.close()


@pytest.fixture
def make_app(tmp_path, monkeypatch, database_url):
    """Return a factory of apps on this test's database (upgraded), with overrides."""
    monkeypatch.setenv("WEIBAO_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in list(os.environ):
        if name.startswith("WEIBAO_") and name not in ("WEIBAO_INSTANCE_PATH",) and not name.startswith("WEIBAO_TEST_"):
            monkeypatch.delenv(name)

    def build(**overrides):
        config = {"TESTING": True, "QUEUE_IMMEDIATE": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                  # cheap hashing keeps hundreds of hostile-input user creations fast
                  "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8192, "ARGON2_PARALLELISM": 1}
        config.update(overrides)
        app = create_app(config)
        app.jinja_env.undefined = jinja2.StrictUndefined
        with app.app_context():
            db.connect(reuse_if_open=True)
            upgrade([plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()])
            db.close()
        built.append(app)
        return app

    built = []
    yield build
    # Pooled connections outlive requests; close them so a test's files and PostgreSQL schema
    # are not held open by the next thousand tests' worth of idle connections.
    for app in built:
        close_pool(app.extensions["weibao"].database)


@pytest.fixture
def app(make_app):
    """A fresh app. No app context stays pushed: requests must not share ``g`` (as they would
    if the test held one open), and peewee reconnects on demand for the test's own queries."""
    app = make_app()
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def hospital(app):
    return Organization.create(name="蒙山县中医医院", kind="hospital")


@pytest.fixture
def other_hospital(app):
    return Organization.create(name="平南县人民医院", kind="hospital")


@pytest.fixture
def vendor(app):
    return Organization.create(name="南宁翱宇科技有限公司", kind="vendor")


@pytest.fixture
def make_user(app, hospital, vendor):
    """Create a user with *role*; hospital roles default to the hospital, others to the vendor."""
    counter = iter(range(10_000))

    def build(role, organization=None, username=None, **fields):
        org = organization or (hospital if role in ("hospital_it", "reporter") else vendor)
        return User.create(username=username or f"{role}{next(counter)}", role=role, organization=org,
                           password_hash=_HASH, display_name=fields.pop("display_name", role), **fields)

    return build


@pytest.fixture
def bearer(app, make_user):
    """Return a function giving Authorization headers for a new user of *role*."""

    def build(role, organization=None):
        user = make_user(role, organization)
        with app.app_context():
            token = commands.create_token(user.username)
        return {"Authorization": f"Bearer {token}"}

    return build


@pytest.fixture
def department(app, hospital):
    return Department.create(organization=hospital, name="门诊部")


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html):
    """Return the CSRF token embedded in a rendered page."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1) or match.group(2)


def log_in(client, username, password=PASSWORD):
    """Log in through the real form, CSRF token included; return the response."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_token(client, path="/profile"):
    """Return a CSRF token for the logged-in client's session."""
    return csrf_from(client.get(path).get_data(as_text=True))


@pytest.fixture
def live_server(app):
    """Serve *app* with waitress on a free 127.0.0.1 port in a thread; yields the base URL."""
    import threading

    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="weibao-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    """Debian's chromium driven by Playwright through executable_path (no browser download)."""
    executable = os.environ.get("WEIBAO_TEST_BROWSER", "/usr/bin/chromium")
    if not os.path.exists(executable):
        if IN_CI:
            pytest.fail(f"chromium not found at {executable} (required in CI)")
        pytest.skip(f"chromium not found at {executable}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield instance
        instance.close()


def browser_log_in(page, base_url, username, password=PASSWORD):
    """Log in through the real page in the browser."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_load_state()
