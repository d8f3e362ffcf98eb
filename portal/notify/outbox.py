"""The outbox: write notifications in the caller's transaction, deliver them exactly once per claim.

huey is at-most-once (a killed consumer loses the tasks it holds), so the queue only carries
hints: ``notify.deliver(id)`` claims the row with one conditional UPDATE (only the winner
sends), sends outside any transaction, then marks it sent in a short transaction of its own.
The sweeper re-enqueues rows that are due and rows stuck in 'sending' past a timeout (a
consumer killed mid-send). A crash between "the remote accepted" and "marked sent" can send a
row twice; every message carries its idempotency key so receivers can drop the repeat.
"""

import logging
import secrets
from datetime import timedelta

from flask import current_app
from peewee import Case

from portal import audit
from portal.accounts.models import utcnow
from portal.db import db
from portal.notify.models import CLAIMABLE
from portal.notify.models import KEY_LENGTH
from portal.notify.models import Notification

log = logging.getLogger(__name__)

INBOX = "inbox"
DELIVER_TASK = "notify.deliver"
DEFAULTS = {
    "NOTIFY_MAX_ATTEMPTS": 8,
    "NOTIFY_BACKOFF_SECONDS": 30,
    "NOTIFY_BACKOFF_MAX_SECONDS": 3600,
    # Longer than any send can take (HTTP and SMTP timeouts are far shorter): after it a
    # 'sending' row is taken to belong to a consumer that died.
    "NOTIFY_SENDING_TIMEOUT_SECONDS": 300,
    # Fresh rows are left to their own after-commit task this long before the sweeper helps.
    "NOTIFY_SWEEP_GRACE_SECONDS": 60,
    "NOTIFY_SWEEP_BATCH": 2000,
    "NOTIFY_HTTP_TIMEOUT_SECONDS": 5,
    "NOTIFY_SMTP_TIMEOUT_SECONDS": 10,
    "NOTIFY_BASE_URL": "",
    "NOTIFY_CONTRACT_EXPIRY_DAYS": [90, 30, 7],
    "NOTIFY_PAYMENT_DUE_DAYS": [30, 7, 0],
    "NOTIFY_INSPECTION_LEAD_DAYS": 3,
}


class ChannelError(Exception):
    """A send failed; the message says why in words an administrator can act on.

    ``permanent``: retrying cannot help (an invalid address): the row goes dead at once.
    """

    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.permanent = permanent


def setting(name):
    return current_app.config.get(name, DEFAULTS[name])


def channels():
    return current_app.extensions["weibao"].registry("notification channel")


def _claimable(now):
    stale = now - timedelta(seconds=float(setting("NOTIFY_SENDING_TIMEOUT_SECONDS")))
    return ((Notification.status.in_(CLAIMABLE) & (Notification.next_attempt_at <= now))
            | ((Notification.status == "sending") & (Notification.claimed_at <= stale)))


def notify(event, recipient, channel, payload, key, *, target="", config=None, urgent=False,
           not_before=None, hospital=None, vendor=None, now=None):
    """Write one notification inside the caller's transaction; return its id, or None when a row
    with this idempotency key exists already (insert-or-ignore). Delivery is queued after commit;
    in-app inbox rows are delivered by being written."""
    if len(key) > KEY_LENGTH:
        raise ValueError(f"idempotency key longer than {KEY_LENGTH} characters: {key[:60]}…")
    now = now or utcnow()
    inbox = channel == INBOX
    row = {
        "recipient": getattr(recipient, "id", recipient), "channel": channel, "config": getattr(config, "id", config),
        "target": target or "", "event": event, "payload": payload, "idempotency_key": key, "urgent": bool(urgent),
        "status": "sent" if inbox else "pending", "sent_at": now if inbox else None,
        "next_attempt_at": max(now, not_before) if not_before else now, "created_at": now,
        "hospital": getattr(hospital, "id", hospital), "vendor": getattr(vendor, "id", vendor),
    }
    # One statement: insert-or-ignore that returns the new id (nothing on a duplicate key).
    inserted = list(Notification.insert(**row).on_conflict_ignore().returning(Notification.id).execute())
    if not inserted:
        return None
    notification_id = inserted[0].id
    if not inbox:
        _enqueue_after_commit(notification_id, row["next_attempt_at"], now)
    return notification_id


def _enqueue_after_commit(notification_id, due, now):
    app = current_app._get_current_object()
    delay = max(0.0, (due - now).total_seconds())

    def enqueue():
        try:
            queue(app, notification_id, delay)
        except Exception:  # the row is stored: the sweeper delivers it when the queue is back
            log.exception("could not queue notification %s; the sweeper will", notification_id)

    db.after_commit(enqueue)


def queue(app, notification_id, delay=0.0):
    """Put a delivery hint on the queue (now, or after *delay* seconds)."""
    task = app.extensions["weibao"].tasks[DELIVER_TASK]
    if delay > 0:
        task.schedule((notification_id,), delay=delay)
    else:
        task(notification_id)


def _sql(text):
    """Hot-path SQL written once: peewee's query builder costs ~2 ms per statement here, more
    than the statement itself (and every millisecond after "the remote accepted" widens the
    window in which a crash could send twice)."""
    return text.replace("?", db.obj.param)


def _at(value):
    return Notification.claimed_at.db_value(value)


def claim(notification_id, now=None):
    """Claim the row for sending; return the claim token, or None when someone else has it,
    it was sent already, or it is not due. One conditional UPDATE: only one winner."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    stale = now - timedelta(seconds=float(setting("NOTIFY_SENDING_TIMEOUT_SECONDS")))
    with db.atomic():
        cursor = db.execute_sql(_sql(
            "UPDATE notification SET status = 'sending', claim_token = ?, claimed_at = ?, attempts = attempts + 1 "
            "WHERE id = ? AND ((status IN ('pending', 'failed') AND next_attempt_at <= ?) "
            "OR (status = 'sending' AND claimed_at <= ?))"), (token, _at(now), notification_id, _at(now), _at(stale)))
        won = cursor.rowcount
    return token if won == 1 else None


def _load(notification_id):
    from portal.notify.models import ChannelConfig

    row = next(iter(Notification.raw(_sql("SELECT * FROM notification WHERE id = ?"), notification_id)))
    if row.config_id:
        row.config = next(iter(ChannelConfig.raw(_sql("SELECT * FROM channel_config WHERE id = ?"), row.config_id)),
                          None)
    return row


def backoff(attempts):
    """Seconds to wait after the *attempts*-th failure: base·2^(n-1), capped."""
    base = float(setting("NOTIFY_BACKOFF_SECONDS"))
    return min(base * 2 ** max(0, attempts - 1), float(setting("NOTIFY_BACKOFF_MAX_SECONDS")))


def deliver(notification_id, now=None):
    """Claim, send, record. Returns "sent", "failed", "dead" or "skipped" (not claimed)."""
    token = claim(notification_id, now)
    if token is None:
        return "skipped"
    row = _load(notification_id)
    try:
        channel = channels().get(row.channel)
        channel.send(row.config if row.config_id else None, row)
    except Exception as error:  # any failure of any channel is recorded on the row, never raised
        return _failed(row, token, error, now)
    with db.atomic():
        db.execute_sql(_sql("UPDATE notification SET status = 'sent', sent_at = ?, last_error = '', claim_token = NULL "
                            "WHERE id = ? AND claim_token = ?"), (_at(utcnow()), notification_id, token))
    return "sent"


def describe(error):
    if isinstance(error, ChannelError):
        return str(error)
    if isinstance(error, KeyError):
        return f"no such channel: {error}"
    return f"{type(error).__name__}: {error}"


def _failed(row, token, error, now):
    message = describe(error)[:2000]
    permanent = isinstance(error, ChannelError) and error.permanent
    dead = permanent or row.attempts >= int(setting("NOTIFY_MAX_ATTEMPTS"))
    delay = backoff(row.attempts)
    next_at = (now or utcnow()) + timedelta(seconds=delay)
    with db.atomic():
        Notification.update(status="dead" if dead else "failed", last_error=message, next_attempt_at=next_at,
                            claim_token=None).where(
            (Notification.id == row.id) & (Notification.claim_token == token)).execute()
    log.warning("notification %s (%s) attempt %s failed: %s", row.id, row.channel, row.attempts, message)
    if not dead:
        try:
            queue(current_app._get_current_object(), row.id, delay)
        except Exception:
            log.exception("could not schedule the retry of notification %s; the sweeper will", row.id)
    return "dead" if dead else "failed"


def due_ids(now=None, limit=None):
    """Ids the sweeper should hint: due rows past the grace period, and stale 'sending' rows."""
    now = now or utcnow()
    limit = limit or int(setting("NOTIFY_SWEEP_BATCH"))
    grace = now - timedelta(seconds=float(setting("NOTIFY_SWEEP_GRACE_SECONDS")))
    stale = now - timedelta(seconds=float(setting("NOTIFY_SENDING_TIMEOUT_SECONDS")))
    due = (Notification.select(Notification.id)
           .where(Notification.status.in_(CLAIMABLE) & (Notification.next_attempt_at <= grace))
           .order_by(Notification.next_attempt_at).limit(limit))
    stuck = (Notification.select(Notification.id)
             .where((Notification.status == "sending") & (Notification.claimed_at <= stale))
             .order_by(Notification.claimed_at).limit(limit))
    return [row.id for row in due] + [row.id for row in stuck]


def sweep(now=None):
    """Every minute: re-enqueue what is due or stuck. Returns how many hints were queued."""
    app = current_app._get_current_object()
    ids = due_ids(now)
    for notification_id in ids:
        queue(app, notification_id)
    if ids:
        log.info("notify sweeper re-queued %d notification(s)", len(ids))
    return len(ids)


def retry_now(notification_id, user=None):
    """Make a failed or dead row due now (an administrator's "retry now"); queue it after commit."""
    now = utcnow()
    with db.atomic():
        row = Notification.get_or_none(Notification.id == notification_id)
        if row is None or row.status not in ("failed", "dead", "pending"):
            return False
        before = {"status": row.status, "attempts": row.attempts}
        # A dead row gets its attempts back so the backoff ladder starts again.
        Notification.update(status="pending", next_attempt_at=now,
                            attempts=Case(None, [(Notification.status == "dead", 0)], Notification.attempts)).where(
            Notification.id == notification_id).execute()
        audit.record("retry", row, summary=f"notification {row.id} {row.channel} {row.event}", user=user,
                     changes=audit.model_changes(before, {"status": "pending", "attempts": 0 if row.status == "dead"
                                                          else row.attempts}))
        _enqueue_after_commit(notification_id, now, now)
    return True


def mask(secret):
    """Show a secret as ``abcd…wxyz`` (short ones as dots only): never in full."""
    secret = secret or ""
    if not secret:
        return ""
    if len(secret) < 12:
        return "•" * 6
    return f"{secret[:4]}…{secret[-4:]}"
