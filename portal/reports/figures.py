"""The ticket conditions every report counts with, as SQL expressions (one aggregate query per
figure, never a Python loop over tickets). The drill-down pages list the rows behind a figure by
applying the very same expression, so a number and its list cannot disagree.

Definitions (documented in the reports README section of each page):

- *resolved*: status ``resolved`` or ``closed`` (API.md).
- *response missed*: flagged breached, or first response after ``response_due``, or no response
  yet and ``response_due`` passed (before closing, or before now while open).
- *resolution missed*: flagged breached, or resolved (or, unresolved, closed) after
  ``resolve_due``, or still running past ``resolve_due`` (an open ticket past its resolve deadline
  has missed it), or paused at a time already past ``resolve_due``. A paused ticket whose clock
  stopped before its deadline has not missed it (its deadline moves when it resumes).
- *system class*: the covered system's class; a ticket without a system counts as ``other``.
"""

from peewee import JOIN
from peewee import Case
from peewee import fn

from portal.contracts.models import CoveredSystem
from portal.tickets.models import CATEGORIES
from portal.tickets.models import PAUSE_STATUSES
from portal.tickets.models import PRIORITIES
from portal.tickets.models import RUNNING_STATUSES
from portal.tickets.models import STATUSES
from portal.tickets.models import Ticket

RESOLVED = ("resolved", "closed")
OPEN = tuple(status for status in STATUSES if status not in RESOLVED)
SYSTEM_CLASSES = ("HIS", "CIS", "other")
TRUE = True


def response_missed(now):
    return ((Ticket.response_breached == TRUE)
            | (Ticket.first_response_at > Ticket.response_due)
            | (Ticket.first_response_at.is_null() & Ticket.closed_at.is_null() & (Ticket.response_due <= now))
            | (Ticket.first_response_at.is_null() & (Ticket.closed_at > Ticket.response_due)))


def resolve_missed(now):
    return ((Ticket.resolve_breached == TRUE)
            | (Ticket.resolved_at > Ticket.resolve_due)
            | (Ticket.resolved_at.is_null() & (Ticket.closed_at > Ticket.resolve_due))
            | (Ticket.status.in_(RUNNING_STATUSES) & (Ticket.resolve_due <= now))
            | (Ticket.status.in_(PAUSE_STATUSES) & (Ticket.paused_since >= Ticket.resolve_due)))


def missed(now):
    return response_missed(now) | resolve_missed(now)


def has_deadline():
    return Ticket.response_due.is_null(False) | Ticket.resolve_due.is_null(False)


def system_class():
    return fn.COALESCE(CoveredSystem.system_class, "other")


def flag(condition):
    """1 when *condition* holds, else 0 (NULL comparisons count as not holding)."""
    return Case(None, ((condition, 1),), 0)


def reported_in(period):
    return (Ticket.reported_at >= period.low) & (Ticket.reported_at < period.high)


def in_period(contract, period):
    return (Ticket.contract == contract.id) & reported_in(period)


def in_period_of(contract_ids, period):
    """Tickets of any of *contract_ids* reported in *period* (one query for several contracts)."""
    return Ticket.contract.in_(list(contract_ids)) & reported_in(period)


def tickets(contract, period):
    """Tickets of *contract* reported in *period*, with the covered system joined."""
    return (Ticket.select().join(CoveredSystem, JOIN.LEFT_OUTER, on=(Ticket.system == CoveredSystem.id))
            .where(in_period(contract, period)))


# Named filters for the drill-down pages: name -> function(now, value) -> condition.
FILTERS = {
    "all": lambda now, value: None,
    "resolved": lambda now, value: Ticket.status.in_(RESOLVED),
    "open": lambda now, value: Ticket.status.in_(OPEN),
    "response_missed": lambda now, value: response_missed(now),
    "resolve_missed": lambda now, value: resolve_missed(now),
    "missed": lambda now, value: missed(now),
    "rated": lambda now, value: Ticket.satisfaction.is_null(False),
    "category": lambda now, value: Ticket.category == value,
    "priority": lambda now, value: Ticket.priority == value,
    "status": lambda now, value: Ticket.status == value,
    "class": lambda now, value: system_class() == value,
    "system": lambda now, value: Ticket.system == int(value) if value.isdigit() else Ticket.system.is_null(),
    "class_missed": lambda now, value: (system_class() == value) & missed(now),
}
FILTER_VALUES = {
    "category": CATEGORIES, "priority": PRIORITIES, "status": STATUSES, "class": SYSTEM_CLASSES,
    "class_missed": SYSTEM_CLASSES,
}


def filter_condition(name, value, now):
    """The condition of drill-down filter *name*; ValueError for an unknown name or value."""
    if name not in FILTERS:
        raise ValueError(name)
    allowed = FILTER_VALUES.get(name)
    if allowed is not None and value not in allowed:
        raise ValueError(value)
    if name == "system" and value != "none" and not (value.isdigit() and len(value) < 19):
        raise ValueError(value)
    return FILTERS[name](now, value)
