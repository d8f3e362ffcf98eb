import json
from pathlib import Path

import pytest

from portal.accounts import commands
from portal.db import db
from tests.conftest import log_in

BLNS_PATH = Path("/work/shared/data/blns.json")

#: Starter articles that are internal (vendor only).
INTERNAL_STARTERS = ("database-backup-check", "insurance-one-sided-account-sql", "year-end-archive-migration")


def load_blns():
    """Return the Big List of Naughty Strings, or an empty list where the file is absent."""
    if not BLNS_PATH.exists():
        return []
    return json.loads(BLNS_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def blns():
    strings = load_blns()
    if not strings:
        pytest.skip(f"{BLNS_PATH} is not available")
    return strings


@pytest.fixture
def in_app(app):
    """Run a function inside an app context with a connection, e.g. ``in_app(service.save_article, …)``."""

    def run(function, *args, **kwargs):
        with app.app_context():
            db.connect(reuse_if_open=True)
            return function(*args, **kwargs)

    return run


@pytest.fixture
def starter(app, in_app):
    """The 30 starter articles, imported the way `weibao import-kb` and the demo do it."""
    from knowledge_base import transfer

    report = in_app(transfer.import_directory, transfer.builtin_articles_dir())
    assert not report.refused, report.refused
    assert len(report.created) == 30
    return report


@pytest.fixture
def token_for(app):
    def make(user):
        with app.app_context():
            return {"Authorization": f"Bearer {commands.create_token(user.username)}"}

    return make


@pytest.fixture
def client_for(app):
    """A test client logged in as *user* through the real log-in form."""

    def make(user):
        client = app.test_client()
        assert log_in(client, user.username).status_code == 302
        return client

    return make
