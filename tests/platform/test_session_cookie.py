"""The session cookie opened once per value (portal/session_cookie.py): the same sessions, the
same refusals as Flask's own, and no request's changes seen by another."""

import pytest
from flask import flash
from flask import get_flashed_messages
from flask import session
from flask.sessions import SecureCookieSessionInterface

from portal import session_cookie
from tests.conftest import blns_strings
from tests.conftest import log_in


def _cookie(client, app):
    return client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session")).value


def _opened(app, cookie):
    """(ours, Flask's) session values for *cookie*."""
    with app.test_request_context("/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}) as context:
        ours = app.session_interface.open_session(app, context.request)
        flasks = SecureCookieSessionInterface().open_session(app, context.request)
    return dict(ours), dict(flasks)


def test_a_cookies_signature_is_checked_once(app, make_user, monkeypatch):
    client = app.test_client()
    log_in(client, make_user("admin").username)
    client.get("/admin/ticket_admin/")
    checks = []
    original = session_cookie.KeptSessionInterface.get_signing_serializer
    monkeypatch.setattr(session_cookie.KeptSessionInterface, "get_signing_serializer",
                        lambda self, app: checks.append(1) or original(self, app))
    for _ in range(5):
        assert client.get("/admin/ticket_admin/").status_code == 200
    assert len(checks) <= 1  # the cookie that the first page's response may have replaced


def test_opened_sessions_equal_flasks_including_refused_ones(app, make_user):
    client = app.test_client()
    log_in(client, make_user("admin").username)
    cookie = _cookie(client, app)
    for _ in range(2):  # opened, then kept
        ours, flasks = _opened(app, cookie)
        assert ours == flasks and ours.get("_user_id")
    payload, signature = cookie.rsplit(".", 1)
    for forged in (payload + "." + signature[::-1], payload[:-1] + "." + signature, "x" + cookie, cookie + "x", "."):
        assert _opened(app, forged) == ({}, {})
    for text in blns_strings()[:300]:
        if text and ";" not in text and "\x00" not in text:
            assert _opened(app, text)[0] == {}


def test_a_kept_cookie_expires_as_flasks_does(app, make_user, monkeypatch):
    import time

    client = app.test_client()
    log_in(client, make_user("admin").username)
    cookie = _cookie(client, app)
    assert _opened(app, cookie)[0]  # kept
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    later = time.time() + lifetime + 5
    monkeypatch.setattr(session_cookie.time, "time", lambda: later)
    monkeypatch.setattr("itsdangerous.timed.TimestampSigner.get_timestamp", lambda self: int(later))
    assert _opened(app, cookie) == ({}, {})


@pytest.fixture
def flashing(app):
    @app.route("/_test/flash/<text>")
    def _flash(text):
        flash(text)
        return "ok"

    @app.route("/_test/flashed")
    def _flashed():
        return "|".join(get_flashed_messages())

    @app.route("/_test/set/<value>")
    def _set(value):
        session["probe"] = value
        return "ok"

    @app.route("/_test/get")
    def _get():
        return session.get("probe", "-")

    return app


def test_one_requests_changes_are_never_seen_by_another(flashing):
    client = flashing.test_client()
    client.get("/_test/set/first")
    cookie = _cookie(client, flashing)
    assert client.get("/_test/get").get_data(as_text=True) == "first"
    client.get("/_test/set/second")  # this request changed its copy of the kept values
    client.set_cookie(flashing.config["SESSION_COOKIE_NAME"], cookie)
    assert client.get("/_test/get").get_data(as_text=True) == "first"  # the same cookie, the same values


def test_flashed_messages_show_once(flashing):
    client = flashing.test_client()
    client.get("/_test/flash/甲")
    cookie = _cookie(client, flashing)
    assert client.get("/_test/flashed").get_data(as_text=True) == "甲"
    assert client.get("/_test/flashed").get_data(as_text=True) == ""
    client.set_cookie(flashing.config["SESSION_COOKIE_NAME"], cookie)  # the cookie holding the message
    assert client.get("/_test/flashed").get_data(as_text=True) == "甲"  # as Flask: the cookie holds it
    client.get("/_test/flash/乙")
    holding_one = _cookie(client, flashing)
    client.get("/_test/flash/丙")  # appends to its own copy of the list, not to what the cookie holds
    assert client.get("/_test/flashed").get_data(as_text=True) == "乙|丙"
    client.set_cookie(flashing.config["SESSION_COOKIE_NAME"], holding_one)
    assert client.get("/_test/flashed").get_data(as_text=True) == "乙"
