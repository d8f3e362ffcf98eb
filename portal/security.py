"""CSRF on every form POST, the session cookie, and the response headers an intranet portal should send."""

import time

from flask import current_app
from flask import g
from flask import request
from flask import session
from flask_wtf.csrf import CSRFProtect

from portal.session_cookie import KeptSessionInterface

#: A session's signed CSRF token is given again for this long. flask-wtf signs the session's token
#: anew (an HMAC over it and the time) for each request that shows a form: the log-out form and
#: the list's delete buttons are on every page, and the signing cost 2.6 % of the admin ticket
#: list. The portal's tokens have no time limit of their own (the session's timeouts bound them);
#: where WTF_CSRF_TIME_LIMIT is set, a token is given again for at most a sixtieth of it.
SIGNED_TOKEN_REUSE_S = 60


def init_security(app):
    """Protect every POST with CSRF and send conservative security headers."""
    CSRFProtect(app)
    app.session_interface = KeptSessionInterface()
    app.before_request(_reuse_signed_token)
    app.after_request(_keep_signed_token)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _field():
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _reuse_signed_token():
    # Only a request with a session cookie has a session token (an API call with a bearer token
    # has none, and reading the session would make its response vary by cookie).
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return
    raw = g.weibao_csrf_raw = session.get(_field())
    kept = current_app.extensions["weibao"].signed_csrf_tokens.get(raw) if isinstance(raw, str) else None
    if kept is not None and time.monotonic() - kept[1] < _reuse_window():
        setattr(g, _field(), kept[0])  # where flask-wtf's generate_csrf keeps the request's token


def _reuse_window():
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT")
    return SIGNED_TOKEN_REUSE_S if limit is None else min(SIGNED_TOKEN_REUSE_S, limit / 60)


def _keep_signed_token(response):
    token, raw = g.get(_field()), g.get("weibao_csrf_raw")
    # Kept only for the session token the request began with: a log-in or log-out replaces it.
    if token is not None and isinstance(raw, str) and session.get(_field()) == raw:
        kept = current_app.extensions["weibao"].signed_csrf_tokens
        if kept.get(raw, (None,))[0] != token:
            kept.keep(raw, (token, time.monotonic()))
    return response
