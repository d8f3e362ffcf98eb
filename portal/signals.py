"""The documented event API: blinker signals that plugins connect to with ``ctx.connect(name, fn)``.

Each signal is sent with ``sender=current_app._get_current_object()`` and the keyword arguments
listed beside it. Receivers run inside the sender's request or task; a receiver that raises is
logged with its traceback and the error propagates (a broken receiver must be seen, not hidden).
"""

from blinker import Namespace

_signals = Namespace()

# user_logged_in(user), user_logged_out(user): after the session is written or destroyed.
user_logged_in = _signals.signal("user_logged_in")
user_logged_out = _signals.signal("user_logged_out")
# ticket_created(ticket), ticket_status_changed(ticket, event, from_status, to_status)
ticket_created = _signals.signal("ticket_created")
ticket_status_changed = _signals.signal("ticket_status_changed")
# sla_warning(ticket, target, level) with level 50/75/90; sla_breached(ticket, target)
sla_warning = _signals.signal("sla_warning")
sla_breached = _signals.signal("sla_breached")
# submission_created(submission), submission_transitioned(submission, action, from_state, to_state)
submission_created = _signals.signal("submission_created")
submission_transitioned = _signals.signal("submission_transitioned")
# article_published(article)
article_published = _signals.signal("article_published")

SIGNALS = {name: signal for name, signal in _signals.items()}


def lookup(name):
    """Return the signal called *name*, or raise KeyError naming the known signals."""
    try:
        return SIGNALS[name]
    except KeyError:
        raise KeyError(f"unknown signal {name!r}; known: {', '.join(sorted(SIGNALS))}") from None
