"""The engineer queue's rows, rendered in Python.

Rendered through Jinja, 50 rows cost half of the queue's time: every cell went through a context
call, a translation lookup or a time-zone lookup. Here labels, the time zone and the link prefix
are fetched once per page and each row is one f-string; every value that comes from a ticket is
escaped.
"""

from zoneinfo import ZoneInfo

from flask import current_app
from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from markupsafe import escape

from portal.i18n import EscapedLabels
from portal.tickets.workflow import STATUS_LABELS
from portal.times import stored_local

PAUSED_STATUSES = ("waiting_customer", "waiting_authorization")
LEVEL_CLASSES = {90: "table-warning sla-90", 75: "table-warning", 50: "table-info"}
STATUS_HTML = EscapedLabels(STATUS_LABELS)


def level_class(ticket):
    """Bootstrap colour of a ticket's SLA state: breach red, 90 orange, 75 yellow, 50 blue."""
    if ticket.response_breached and ticket.status == "new" or ticket.resolve_breached or ticket.sla_level >= 100:
        return "table-danger"
    return LEVEL_CLASSES.get(ticket.sla_level, "")


class QueueRows:
    """Per-request renderer of queue rows (the ``<tr>`` elements of tickets/queue.html)."""

    def __init__(self):
        self.zone = ZoneInfo(current_app.config["TIMEZONE"])
        self.status_labels = STATUS_HTML()
        breached, paused = escape(_("Breached")), escape(_("Paused"))  # outside f-strings: the extractor reads these
        self.breached = f'<span class="badge badge-danger">{breached}</span>'
        self.paused = f'<span class="badge badge-secondary">{paused}</span>'
        self.detail_prefix = escape(url_for("tickets.detail", ticket_id=0)[:-1])

    def time(self, value):
        return stored_local(value, self.zone) if value is not None else ""

    def sla_badges(self, ticket):
        if ticket.resolve_breached or ticket.response_breached:
            badge = self.breached
        elif ticket.sla_level:
            badge = f'<span class="badge badge-warning">{int(ticket.sla_level)}%</span>'
        else:
            badge = ""
        return badge + self.paused if ticket.status in PAUSED_STATUSES else badge

    def row(self, ticket):
        status = self.status_labels.get(ticket.status) or escape(ticket.status)
        return (f'<tr class="{level_class(ticket)}">'
                f'<td><a href="{self.detail_prefix}{int(ticket.id)}">{escape(ticket.number)}</a></td>'
                f'<td>{escape(ticket.title)}</td><td>{escape(ticket.priority)}</td><td>{status}</td>'
                f'<td>{self.time(ticket.reported_at)}</td><td>{self.time(ticket.response_due)}</td>'
                f'<td>{self.time(ticket.resolve_due)}</td><td>{self.sla_badges(ticket)}</td></tr>')

    def render(self, tickets):
        return Markup("\n".join(self.row(ticket) for ticket in tickets))
