"""The ticket status workflow: THE transition table, and the checks made before any change.

``TRANSITIONS`` is the one place that says which action moves a ticket from which states to
which state, and which roles may perform it (admin may perform every one). The service and the
pages ask :func:`allowed_actions`; the tests are generated from the same table.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

VENDOR = frozenset({"engineer", "manager"})
HOSPITAL = frozenset({"hospital_it", "reporter"})


@dataclass(frozen=True)
class Transition:
    sources: frozenset  # states the action is allowed from
    target: str | None  # the new state; None keeps the state (an event only)
    roles: frozenset  # who may do it (admin always may)
    label: object  # button text
    needs_comment: bool = False  # the comment is the reason (a pause reason the hospital sees)


def _t(sources, target, roles, label, needs_comment=False):
    return Transition(frozenset(sources), target, frozenset(roles), label, needs_comment)


TRANSITIONS = {
    # accept is the response: it sets accepted_at/accepted_by and first_response_at.
    "accept": _t({"new"}, "accepted", VENDOR, _l("Accept")),
    "start": _t({"accepted", "reopened"}, "in_progress", VENDOR, _l("Start work")),
    "arrive_onsite": _t({"accepted", "in_progress", "reopened"}, None, VENDOR, _l("Arrived on site")),
    "wait_customer": _t({"accepted", "in_progress"}, "waiting_customer", VENDOR,
                        _l("Wait for the hospital"), needs_comment=True),
    "request_authorization": _t({"accepted", "in_progress", "reopened"}, "waiting_authorization", VENDOR,
                                _l("Request authorization"), needs_comment=True),
    "authorize": _t({"waiting_authorization"}, "in_progress", {"hospital_it"}, _l("Authorize")),
    "resume": _t({"waiting_customer"}, "in_progress", VENDOR | HOSPITAL, _l("Resume")),
    "resolve": _t({"accepted", "in_progress"}, "resolved", VENDOR, _l("Resolve")),
    "confirm": _t({"resolved"}, "closed", HOSPITAL, _l("Confirm and rate")),
    "reopen": _t({"resolved"}, "reopened", HOSPITAL, _l("Reopen"), needs_comment=True),
    # Closing without a confirmation: a resolved ticket nobody confirms, a duplicate or withdrawn
    # new ticket, or a data correction the hospital declines to authorize.
    "close": _t({"new", "resolved", "waiting_authorization"}, "closed", {"hospital_it", "manager"},
                _l("Close"), needs_comment=False),
}

ACTIONS = tuple(TRANSITIONS)

STATUS_LABELS = {
    "new": _l("New"),
    "accepted": _l("Accepted"),
    "in_progress": _l("In progress"),
    "waiting_customer": _l("Waiting for the hospital"),
    "waiting_authorization": _l("Waiting for authorization"),
    "resolved": _l("Resolved"),
    "reopened": _l("Reopened"),
    "closed": _l("Closed"),
}
PRIORITY_LABELS = {
    "P1": _l("P1 system disaster"),
    "P2": _l("P2 severe fault"),
    "P3": _l("P3 ordinary fault"),
    "P4": _l("P4 ordinary request"),
}
CATEGORY_LABELS = {
    "consultation": _l("Consultation"),
    "fault": _l("Fault"),
    "bug": _l("Software bug"),
    "requirement": _l("Requirement"),
    "data_correction": _l("Data correction"),
    "report": _l("Report request"),
    "interface": _l("Interface"),
}
CHANNEL_LABELS = {
    "phone": _l("Phone"),
    "remote": _l("Remote"),
    "onsite": _l("On site"),
    "portal": _l("Portal"),
    "wecom": _l("WeCom"),
    "email": _l("E-mail"),
    "other": _l("Other"),
}
EVENT_LABELS = {
    "created": _l("Reported"),
    "comment": _l("Comment"),
    "data_change": _l("Data change recorded"),
    "sla_warning": _l("SLA warning"),
    "sla_breached": _l("SLA breached"),
}


def role_may(role, action):
    """Whether *role* may perform *action* at all (ignoring the ticket's state)."""
    transition = TRANSITIONS.get(action)
    return transition is not None and (role == "admin" or role in transition.roles)


def state_allows(status, action):
    """Whether *action* may be performed on a ticket in *status*."""
    transition = TRANSITIONS.get(action)
    return transition is not None and status in transition.sources


def blocked_by_authorization(ticket, action):
    """A data correction may not start or be resolved before the hospital authorized it."""
    return ticket.category == "data_correction" and ticket.authorized_at is None and action in ("start", "resolve")


def allowed_actions(ticket, role):
    """The actions *role* may perform on *ticket* now (what the ticket page offers)."""
    return [action for action in ACTIONS
            if role_may(role, action) and state_allows(ticket.status, action)
            and not blocked_by_authorization(ticket, action)]
