"""Dashboard figures per viewer: only contracts the viewer's organisation may see, and only
tickets the viewer may see (tickets.service.visible)."""

from datetime import timedelta

from peewee import fn

from portal.accounts.models import Organization
from portal.accounts.models import utcnow
from portal.calendars.service import current_calendar
from portal.contracts.access import scoped_contracts
from portal.contracts.models import Contract
from portal.reports import cards
from portal.reports import figures
from portal.reports import labels
from portal.reports import periods
from portal.tickets.models import PRIORITIES
from portal.tickets.models import Ticket
from portal.tickets.service import visible

CONTRACT_LIMIT = 12
AWAITING_LIMIT = 20


def awaiting(user):
    """Tickets waiting for *user*: confirmations and authorizations for the hospital, the
    engineer's own open work, unassigned new tickets for the vendor's manager."""
    # Only what the list shows: the rows are wide (description, resolution) and the list is read on every log-in.
    query = visible(Ticket.select(Ticket.id, Ticket.number, Ticket.title, Ticket.status), user)
    if user.role in ("hospital_it",):
        query = query.where(Ticket.status.in_(("waiting_authorization", "resolved")))
    elif user.role == "reporter":
        query = query.where((Ticket.status == "resolved") & (Ticket.reporter == user.id))
    elif user.role == "engineer":
        query = query.where((Ticket.assignee == user.id) & Ticket.status.in_(("accepted", "in_progress", "reopened")))
    elif user.role == "manager":
        query = query.where((Ticket.status == "new") & Ticket.assignee.is_null())
    else:
        query = query.where(Ticket.status == "new")
    return list(query.order_by(Ticket.resolve_due.asc(nulls="LAST"), Ticket.id).limit(AWAITING_LIMIT))


def open_counts(user):
    """{(priority, status): count} of open tickets the viewer may see."""
    query = (visible(Ticket.select(Ticket.priority, Ticket.status, fn.COUNT(Ticket.id)), user)
             .where(Ticket.status.in_(figures.OPEN)).group_by(Ticket.priority, Ticket.status))
    return {(p, s): n for p, s, n in query.tuples()}


def upcoming_inspections(today):
    cal = current_calendar()
    items = []
    for year in (today.year, today.year + 1):
        for day, block in cal.pre_holiday_inspections(year):
            if today <= day <= today + timedelta(days=cards.HORIZON_DAYS):
                items.append({"day": day, "kind": "pre_holiday", "name": block.name})
    quarter_end = periods.quarter_period(today.year, (today.month - 1) // 3 + 1).last
    items.append({"day": quarter_end, "kind": "quarterly", "name": ""})
    return sorted(items, key=lambda item: item["day"])


def shown_contracts(user, today):
    """The viewer's contracts of the last year, latest ending first, with the hospital joined
    (the card names it)."""
    hospital = Organization.alias()
    query = (scoped_contracts(user).select_extend(hospital).join(hospital, on=(Contract.hospital == hospital.id))
             .where(Contract.end_date >= today - timedelta(days=365)))
    return list(query.order_by(Contract.end_date.desc(), Contract.id).limit(CONTRACT_LIMIT))


def dashboard(user, with_contracts=True):
    """Everything the dashboard shows *user*; a fixed number of statements however many
    hospitals, contracts and tickets the viewer sees."""
    now = utcnow()
    today = now.astimezone(current_calendar().tz).date()
    counts = open_counts(user)
    by_priority = [(p, sum(n for (q, _s), n in counts.items() if q == p)) for p in PRIORITIES]
    statuses = sorted({s for (_p, s) in counts})
    by_status = [(labels.status(s), sum(n for (_p, t), n in counts.items() if t == s)) for s in statuses]
    data = {"today": today, "open": counts, "open_by_priority": by_priority, "open_by_status": by_status, "awaiting": awaiting(user), "contracts": [],
            "inspections": upcoming_inspections(today) if with_contracts else []}
    if with_contracts:
        data["contracts"] = cards.cards(shown_contracts(user, today), now, today)
    return data
