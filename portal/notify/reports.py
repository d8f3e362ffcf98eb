"""The period summary announced with the monthly service report and the weekly confirmation sheet.

A stand-in until the reports package exists: counts of the period's tickets per status. The
reports package can replace it by putting its own function in
``app.extensions["weibao"].plugin_data["notify.report_summary"]`` (same signature).
"""

from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone

from flask import current_app
from peewee import fn


def tickets_by_status(contract, first, last, tz):
    """{status: count} of the contract's tickets reported from *first* to *last* (local days)."""
    from portal.tickets.models import Ticket

    low = datetime.combine(first, time(0), tzinfo=tz).astimezone(timezone.utc)
    high = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    rows = (Ticket.select(Ticket.status, fn.COUNT(Ticket.id).alias("n"))
            .where((Ticket.contract == contract.id) & (Ticket.reported_at >= low) & (Ticket.reported_at < high))
            .group_by(Ticket.status).tuples())
    return {status: count for status, count in rows}


def period_summary(contract, first, last, tz):
    """The summary for a report announcement (replaceable, see the module docstring)."""
    replacement = current_app.extensions["weibao"].plugin_data.get("notify.report_summary")
    if replacement is not None:
        return replacement(contract, first, last, tz)
    return tickets_by_status(contract, first, last, tz)
