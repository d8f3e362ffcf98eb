"""The session cookie, opened once per cookie value.

Flask checks the cookie's signature (an HMAC), decodes and parses it on every request: 4 % of the
admin ticket list. A browser sends the same cookie until its session changes (the last-seen time
moves at most once a minute, ``auth.SEEN_AT_STEP``), so the opened values are kept per cookie value
with the time it was signed. A kept cookie is still refused once older than the session lifetime,
as Flask refuses it. Only sessions of plain values are kept: each request gets its own copy of the
values, and a list in it (flashed messages) would be shared between requests and changed by one
under another.
"""

import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from portal.admin_menu import Kept

#: Cookie values kept opened; the store is emptied when full.
MAX_OPENED_COOKIES = 4096
PLAIN_VALUES = (str, int, float, bool, type(None))


class KeptSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, each cookie value's signature checked and parsed once."""

    def __init__(self):
        self.opened = Kept(MAX_OPENED_COOKIES)

    def open_session(self, app, request):
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or not app.secret_key:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, cookie)
        kept = self.opened.get(key)
        if kept is not None and 0 <= int(time.time()) - kept[1] <= max_age:
            return self.session_class(kept[0])  # a copy: the session's dict is the request's own
        try:
            values, signed_at = self.get_signing_serializer(app).loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:  # tampered with or expired: a new, empty session, as Flask gives
            return self.session_class()
        if all(type(value) in PLAIN_VALUES for value in values.values()):
            self.opened.keep(key, (values, int(signed_at.timestamp())))
        return self.session_class(values)
