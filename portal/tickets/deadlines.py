"""SLA on tickets: deadlines from the contract's targets and the business calendar, pauses,
breach flags, warning levels, and the periodic sweep.

Stored on the ticket: ``response_due``/``onsite_due``/``resolve_due`` (after the closed pauses),
``paused_minutes`` (wall-clock minutes of closed pauses), breach flags, the level reached per
target (0/50/75/90/100) and ``sla_next_at``, the instant at which the next level is reached.
The sweep only touches tickets with ``sla_next_at <= now`` (an index range), never all tickets.
"""

import math
from datetime import timedelta

from flask import current_app

from portal import audit
from portal import signals
from portal import sla
from portal.accounts.models import utcnow
from portal.db import db
from portal.db import is_postgres
from portal.tickets.models import PAUSE_STATUSES
from portal.tickets.models import RUNNING_STATUSES
from portal.tickets.models import UNANSWERED_STATUSES
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from portal.tickets.models import TicketPause

SWEEP_BATCH = 500
LEVEL_FIELDS = {"response": "response_level", "resolve": "resolve_level"}


def calendar():
    from portal.calendars.service import current_calendar

    return current_calendar()


def targets_for(ticket):
    """{kind: portal.sla.Target} of the ticket's contract and priority (empty without SLA)."""
    from portal.contracts.service import sla_targets

    return dict(sla_targets(ticket.contract).get(ticket.priority, {}) or {})


def pause_intervals(ticket, include_open_until=None):
    """The ticket's pauses as (start, end); an open pause is left out unless closed at a time."""
    intervals = []
    if ticket.id is None:
        return intervals
    for pause in TicketPause.select().where(TicketPause.ticket == ticket.id).order_by(TicketPause.started_at):
        end = pause.ended_at or include_open_until
        if end is not None:
            intervals.append((pause.started_at, end))
    return intervals


def met(ticket, kind):
    """Whether the promise of *kind* was kept or broken already (no longer on the clock)."""
    return {"response": ticket.first_response_at, "onsite": ticket.onsite_arrived_at,
            "resolve": ticket.resolved_at}[kind] is not None


def active(ticket, kind):
    """Whether the clock of *kind* runs for warnings now (on-site arrival is reported, not swept)."""
    if kind == "response":
        return ticket.status in UNANSWERED_STATUSES and ticket.first_response_at is None
    if kind == "resolve":
        return ticket.status in RUNNING_STATUSES and ticket.resolved_at is None
    return False


def recompute(ticket, cal=None, targets=None):
    """Set the deadlines of the promises not yet met from ``reported_at`` and the closed pauses,
    ``paused_minutes``, and ``sla_next_at``. Does not save."""
    cal = cal or calendar()
    targets = targets_for(ticket) if targets is None else targets
    pauses = pause_intervals(ticket)
    merged = sla.merge_pauses(pauses)
    ticket.paused_minutes = int(sum(((b - a) for a, b in merged), timedelta(0)) // timedelta(minutes=1))
    for kind in ("response", "onsite", "resolve"):
        target = targets.get(kind)
        if target is None:
            setattr(ticket, f"{kind}_due", None)
        elif not met(ticket, kind):
            setattr(ticket, f"{kind}_due", sla.due_with_pauses(cal, ticket.reported_at, target, pauses))
    schedule(ticket, cal, targets, pauses)


def _level_instant(cal, ticket, target, level, pauses):
    if level >= 100:
        return sla.due_with_pauses(cal, ticket.reported_at, target, pauses)
    # Rounded up to whole minutes: never early, at most a minute late for a once-a-minute sweep.
    partial = sla.Target(max(1, math.ceil(target.minutes * level / 100)), target.clock)
    return sla.due_with_pauses(cal, ticket.reported_at, partial, pauses)


def schedule(ticket, cal, targets, pauses):
    """Set ``sla_next_at`` to the earliest instant a running target reaches its next level."""
    if ticket.status in PAUSE_STATUSES:
        ticket.sla_next_at = None
        return
    instants = []
    for kind, field in LEVEL_FIELDS.items():
        target = targets.get(kind)
        if target is None or not active(ticket, kind):
            continue
        higher = [level for level in sla.WARNING_LEVELS if level > getattr(ticket, field)]
        if higher:
            instants.append(_level_instant(cal, ticket, target, higher[0], pauses))
    ticket.sla_next_at = min(instants) if instants else None
    # The queue's colour: the response level while unanswered, else the resolve level reached.
    ticket.sla_level = max(ticket.response_level if active(ticket, "response") else 0, ticket.resolve_level)


def breached_query(now):
    """Running tickets past their resolve deadline: one range over the (status, resolve_due) index."""
    return Ticket.select(Ticket.id).where(Ticket.status.in_(RUNNING_STATUSES) & (Ticket.resolve_due <= now))


def unanswered_breached_query(now):
    """New tickets past their response deadline, over the (status, response_due) index."""
    return Ticket.select(Ticket.id).where(Ticket.status.in_(UNANSWERED_STATUSES) & (Ticket.response_due <= now))


def due_for_sweep_query(now):
    """Tickets that reached their next warning level by *now* (the sla_next_at index)."""
    return Ticket.select(Ticket.id).where(Ticket.sla_next_at <= now).order_by(Ticket.sla_next_at).limit(SWEEP_BATCH)


def sweep(now=None):
    """Flag breaches and raise warning levels; send sla_warning/sla_breached once per level.

    Returns the number of tickets whose level changed. Safe to run concurrently and repeatedly:
    each ticket is re-read inside its own transaction and levels only go up.
    """
    now = now or utcnow()
    with db.atomic():
        Ticket.update(resolve_breached=True).where(
            Ticket.id.in_(breached_query(now)) & (Ticket.resolve_breached == False)).execute()  # noqa: E712
        Ticket.update(response_breached=True).where(
            Ticket.id.in_(unanswered_breached_query(now)) & (Ticket.response_breached == False)).execute()  # noqa: E712
    ids = [row.id for row in due_for_sweep_query(now)]
    if not ids:
        return 0
    cal = calendar()
    changed = 0
    for ticket_id in ids:
        with db.atomic():
            query = Ticket.select().where((Ticket.id == ticket_id) & (Ticket.sla_next_at <= now))
            ticket = (query.for_update() if is_postgres() else query).first()
            if ticket is not None and _raise_levels(ticket, cal, now):
                changed += 1
    return changed


def _raise_levels(ticket, cal, now):
    targets = targets_for(ticket)
    pauses = pause_intervals(ticket)
    raised = []
    for kind, field in LEVEL_FIELDS.items():
        target = targets.get(kind)
        if target is None or not active(ticket, kind):
            continue
        level = sla.warning_level(sla.progress(cal, ticket.reported_at, now, target, pauses))
        if level > getattr(ticket, field):
            setattr(ticket, field, level)
            raised.append((kind, target, level))
            if level >= 100:
                setattr(ticket, f"{kind}_breached", True)
    schedule(ticket, cal, targets, pauses)
    ticket.save()
    app = current_app._get_current_object()
    for kind, target, level in raised:
        event_kind = "sla_breached" if level >= 100 else "sla_warning"
        TicketEvent.create(ticket=ticket.id, kind=event_kind, at=now, from_status=ticket.status,
                           to_status=ticket.status, body=f"{kind} {level}%")
        audit.record(event_kind, ticket, summary=f"{ticket.number} {kind} {level}%")
        if level >= 100:
            signals.sla_breached.send(app, ticket=ticket, target=kind)
        else:
            signals.sla_warning.send(app, ticket=ticket, target=kind, level=level)
    return bool(raised)
