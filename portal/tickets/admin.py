"""The scoped admin list of tickets: filters on indexed columns, no COUNT(*), no LIKE search."""

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from markupsafe import escape
from peewee import JOIN

from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.admin import SecureModelView
from portal.tickets.models import Ticket
from portal.tickets.service import visible
from portal.tickets.workflow import CATEGORY_LABELS
from portal.tickets.workflow import PRIORITY_LABELS
from portal.tickets.workflow import STATUS_LABELS


def _number_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(url_for("tickets.detail", ticket_id=model.id), escape(model.number))


class TicketView(SecureModelView):
    resource = "tickets"
    scope_fields = {"hospital": Ticket.hospital, "vendor": Ticket.vendor}
    can_create = False  # tickets are reported through /tickets/new or the API (numbering, SLA, timeline)
    simple_list_pager = True  # no COUNT(*) over the whole table on every page view
    column_list = ("number", "title", "priority", "status", "category", "hospital", "assignee", "reported_at",
                   "resolve_due", "resolve_breached", "satisfaction")
    column_default_sort = ("id", True)
    column_sortable_list = ("number", "priority", "status", "reported_at", "resolve_due")
    column_filters = ("status", "priority", "category", "resolve_breached", "response_breached")
    column_details_exclude_list = ("sla_next_at",)
    form_columns = ("title", "description", "kb_article_id")  # workflow fields change only through actions
    column_formatters = {
        "number": _number_link,
        "status": lambda v, c, m, p: STATUS_LABELS.get(m.status, m.status),
        "priority": lambda v, c, m, p: PRIORITY_LABELS.get(m.priority, m.priority),
        "category": lambda v, c, m, p: CATEGORY_LABELS.get(m.category, m.category),
    }
    column_labels = {
        "number": _l("Number"), "title": _l("Title"), "priority": _l("Priority"), "status": _l("Status"),
        "category": _l("Category"), "hospital": _l("Hospital"), "assignee": _l("Assignee"),
        "reported_at": _l("Reported at"), "resolve_due": _l("Resolve by"), "resolve_breached": _l("Resolve breached"),
        "response_breached": _l("Response breached"), "satisfaction": _l("Satisfaction"), "contract": _l("Contract"),
        "description": _l("Description"), "system": _l("System"), "kb_article_id": _l("Knowledge base article"),
    }

    def get_query(self):
        # The list shows the hospital and the assignee: load them with the tickets (one statement
        # per page, not one per row and column). Only the columns shown; never password hashes.
        assignee = User.alias()
        query = (Ticket.select(Ticket, Organization.id, Organization.name, Organization.kind,
                               assignee.id, assignee.username, assignee.display_name)
                 .join(Organization, on=(Ticket.hospital == Organization.id), attr="hospital")
                 .switch(Ticket)
                 .join(assignee, JOIN.LEFT_OUTER, on=(Ticket.assignee == assignee.id), attr="assignee"))
        return self.scoped(query)

    def scoped(self, query):
        # Beyond the organisation: a reporter sees their own and their department's tickets only.
        return visible(query, current_user)


def admin_views():
    return [("tickets", lambda: TicketView(Ticket, name=_l("Tickets"), category=_l("Tickets"), endpoint="ticket_admin"))]
