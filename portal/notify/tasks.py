"""Queue tasks. They take primary keys, run in their own app context and connection (portal.queue),
and return None so nothing piles up in huey's result store."""

from portal.notify import outbox
from portal.notify import scheduled


def deliver(notification_id):
    """notify.deliver: claim, send, record (a hint: repeated or stale calls are harmless)."""
    outbox.deliver(notification_id)


def sweep():
    """notify.sweep, every minute: re-enqueue due rows and rows stuck in 'sending'."""
    outbox.sweep()


def reminders():
    """notify.reminders, hourly: inspections, report announcements, contracts, payments, quotas."""
    scheduled.daily()
