"""Log-in sessions and bearer tokens: who is calling, and whether their session still holds.

A session holds the user's id, the user's ``session_version`` at log-in, and the log-in and
last-seen times. Log-out and password change bump the version, so a copied cookie stops
working; idle and absolute timeouts end a session even if the cookie is kept.
"""

import time
from datetime import timedelta
from functools import wraps

from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask import session
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user

from portal import audit
from portal import signals
from portal.accounts.models import ApiToken
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.accounts.passwords import token_digest
from portal.accounts.passwords import verify_password
from portal.db import db
from portal.prepared import prepared

TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
#: The session's "last seen" time moves at most this often: a changed session is signed and sent
#: again as a cookie on every response (3 % of a list page); the idle timeout is minutes long.
SEEN_AT_STEP = 60


def init_auth(app):
    """Install flask-login with our session checks and bearer-token loading."""
    manager = LoginManager()
    manager.login_view = "accounts.login"
    manager.login_message = _l("Please log in to see this page.")
    manager.login_message_category = "warning"
    manager.session_protection = None  # our own session version and timeouts do this job
    manager.user_loader(_load_session_user)
    manager.request_loader(_load_token_user)
    manager.init_app(app)


@prepared
def _session_user(shape, user_id):
    # The organisation's kind decides every scoping condition: load it with the user.
    return User.select(User, Organization).join(Organization).where(User.id == user_id).limit(1)


@prepared
def _token_with_user(shape, digest):
    # The token, its user and the user's organisation in one statement (every API request).
    return (ApiToken.select(ApiToken, User, Organization).join(User).join(Organization)
            .where(ApiToken.token_hash == digest).limit(1))


def request_access():
    """(user, answers so far) of this request's access checks; logging in or out drops them."""
    try:
        return g.weibao_may
    except AttributeError:
        g.weibao_may = access = (current_user._get_current_object(), {})
        return access


def forget_access():
    """Drop this request's access answers: the user has just changed (log-in, log-out)."""
    g.pop("weibao_may", None)


def _load_session_user(user_id):
    user_id = _int_or_none(user_id)
    user = None if user_id is None else _session_user.first(user_id=user_id)
    if user is None or not user.active or session.get("sv") != user.session_version:
        return None
    now = time.time()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if now - session.get("seen_at", 0) > idle or now - session.get("login_at", 0) > absolute:
        session.clear()
        return None
    if now - session.get("seen_at", 0) >= SEEN_AT_STEP:
        session["seen_at"] = now
    return user


def _load_token_user(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = _token_with_user.first(digest=token_digest(header[7:].strip()))
    if token is None or token.revoked_at is not None:
        return None
    user = token.user
    if not user.active:
        return None
    g.auth_via_token = True
    now = utcnow()
    # A write per API read would queue every read behind SQLite's write lock: refresh the
    # "last used" time at most every few minutes.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.update(last_used_at=now).where(ApiToken.id == token.id).execute()
    return user


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class LoginRefused(Exception):
    """Log-in failed; ``reason`` is "invalid" or "locked"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def authenticate(username, password):
    """Check credentials with the lockout rule; return the user or raise LoginRefused.

    The failure counter lives in the database, so the lockout holds across processes. The
    audit row of a refusal is committed before the refusal is raised.
    """
    with db.atomic():
        user, outcome = _check_credentials(username, password)
    if outcome != "ok":
        raise LoginRefused(outcome)
    return user


def _check_credentials(username, password):
    config = current_app.config
    user = User.get_or_none(User.username == username)
    now = utcnow()
    if user is None:
        audit.record("login_failed", summary=str(username)[:150], object_type="User")
        return None, "invalid"
    if user.locked_until is not None and user.locked_until > now:
        audit.record("login_locked", user, summary=username, user=user)
        return user, "locked"
    if user.active and verify_password(user.password_hash, password):
        User.update(failed_logins=0, locked_until=None, last_login_at=now).where(User.id == user.id).execute()
        audit.record("login", user, user=user)
        return user, "ok"
    failures = 1 if user.locked_until is not None else user.failed_logins + 1
    locked = failures >= config["LOCKOUT_THRESHOLD"]
    locked_until = now + timedelta(minutes=config["LOCKOUT_MINUTES"]) if locked else None
    User.update(failed_logins=failures, locked_until=locked_until).where(User.id == user.id).execute()
    audit.record("login_failed", user, summary=f"attempt {failures}", user=user)
    return user, "invalid"


def start_session(user):
    """Begin a fresh session for *user* (the old session's data is dropped)."""
    session.clear()
    login_user(user)
    forget_access()
    now = time.time()
    session.update(sv=user.session_version, login_at=now, seen_at=now)
    session.permanent = False
    signals.user_logged_in.send(current_app._get_current_object(), user=user)


def end_all_sessions(user):
    """Invalidate every session of *user* everywhere (log-out, password change)."""
    User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()


def log_out():
    """End the current user's sessions and clear this one."""
    user = current_user._get_current_object()
    with db.atomic():
        end_all_sessions(user)
        audit.record("logout", user, user=user)
    logout_user()
    forget_access()
    session.clear()
    signals.user_logged_out.send(current_app._get_current_object(), user=user)


def role_required(*roles):
    """Allow a view only to logged-in users with one of *roles* (admin always)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role != "admin" and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def via_token():
    """Tell whether this request was authenticated by a bearer token (no CSRF then)."""
    return bool(getattr(g, "auth_via_token", False)) and request is not None
