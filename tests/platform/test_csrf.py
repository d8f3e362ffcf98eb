"""The signed CSRF token a session is given: reused for a minute, valid where flask-wtf's is, never
another session's."""

import re
import time

from flask import session
from flask_wtf.csrf import validate_csrf

from portal import security
from tests.conftest import log_in

MENU_TOKEN = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def _page_tokens(client, path="/admin/ticket_admin/"):
    return set(MENU_TOKEN.findall(client.get(path).get_data(as_text=True)))


def test_a_sessions_signed_token_is_reused_for_a_minute(app, make_user, monkeypatch):
    from itsdangerous import TimestampSigner

    clock = [time.time()]  # our reuse and itsdangerous's signing time, moved together
    monkeypatch.setattr(security.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(clock[0]))
    client = app.test_client()
    log_in(client, make_user("admin").username)
    _page_tokens(client)  # log-in began a new session: its first page makes the session's token
    first = _page_tokens(client)
    assert len(first) == 1  # the log-out form and the delete buttons carry the same token
    clock[0] += security.SIGNED_TOKEN_REUSE_S - 1
    assert _page_tokens(client) == first == _page_tokens(client, "/tickets/queue")
    clock[0] += 2
    later = _page_tokens(client)
    assert len(later) == 1 and later != first  # signed anew after a minute
    for token in first | later:  # both still valid for the session that was given them
        with client.session_transaction() as stored, app.test_request_context("/"):
            session.update(stored)
            validate_csrf(token)
    assert client.post("/logout", data={"csrf_token": next(iter(first))}).status_code == 302
    assert client.get("/admin/ticket_admin/").status_code == 302  # logged out


def test_another_sessions_kept_token_is_refused(app, make_user):
    clients = [app.test_client(), app.test_client()]
    for client, role in zip(clients, ("admin", "manager")):
        log_in(client, make_user(role).username)
        _page_tokens(client)
    tokens = [_page_tokens(client) for client in clients]
    assert tokens[0].isdisjoint(tokens[1])
    stolen = next(iter(tokens[1]))
    assert clients[0].post("/logout", data={"csrf_token": stolen}).status_code == 400
    assert clients[0].get("/admin/ticket_admin/").status_code == 200  # still logged in
    assert _page_tokens(clients[0]) == tokens[0]


def test_the_kept_tokens_are_bounded(app, make_user, monkeypatch):
    from portal import state

    kept = app.extensions["weibao"].signed_csrf_tokens
    monkeypatch.setattr(kept, "limit", 3)
    user = make_user("admin")
    for _ in range(7):
        client = app.test_client()
        log_in(client, user.username)
        for _ in range(2):
            assert len(_page_tokens(client)) == 1
        assert 1 <= len(kept) <= 3
    assert state.MAX_SIGNED_CSRF_TOKENS >= 1000  # a session each for a hospital's staff


def test_a_configured_time_limit_bounds_the_reuse(app, make_user, monkeypatch):
    from itsdangerous import TimestampSigner

    clock = [time.time()]
    monkeypatch.setattr(security.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(clock[0]))
    app.config["WTF_CSRF_TIME_LIMIT"] = 120  # a token reused for at most 2 s
    client = app.test_client()
    log_in(client, make_user("admin").username)
    _page_tokens(client)
    first = _page_tokens(client)
    clock[0] += 1
    assert _page_tokens(client) == first
    clock[0] += 2
    assert _page_tokens(client) != first
