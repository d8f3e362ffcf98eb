"""Ticket operations: who sees what, creating (numbered, with deadlines), transitions, comments
and data-change records. Each write is one transaction with its TicketEvent and AuditLog rows.

Errors are :class:`portal.api.errors.ApiError` (403 role, 404 not visible, 409 state, 422 input)
so the API answers them as they are and the pages flash their message.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from peewee import fn

from portal import audit
from portal import signals
from portal.accounts.models import Department
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.db import db
from portal.db import is_postgres
from portal.permissions import VENDOR_ROLES
from portal.permissions import scope
from portal.permissions import scope_viewer
from portal.tickets import chain
from portal.tickets import deadlines
from portal.tickets import search
from portal.tickets.models import PAUSE_STATUSES
from portal.tickets.models import RUNNING_STATUSES
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from portal.tickets.models import TicketPause
from portal.tickets.numbering import next_number
from portal.tickets.workflow import STATUS_LABELS
from portal.tickets.workflow import TRANSITIONS
from portal.tickets.workflow import blocked_by_authorization
from portal.tickets.workflow import role_may
from portal.tickets.workflow import state_allows

# Events that are not steps of the workflow: a transition's `at` may be earlier than these.
SIDE_EVENTS = ("comment", "sla_warning", "sla_breached", "data_change")
CLOCK_SKEW = timedelta(seconds=60)


def visible(query, user):
    """Scope a Ticket query to *user*: their hospital or vendor; a reporter sees the tickets they
    reported and those of their own department (tickets carry patient data; other departments'
    problems are not a department user's business)."""
    query = scope(query, user, hospital=Ticket.hospital, vendor=Ticket.vendor)
    if user.role == "reporter":
        condition = Ticket.reporter == user.id
        if user.department_id:
            condition |= Ticket.department == user.department_id
        query = query.where(condition)
    return query


def viewer(user):
    """(shape, values) of ``visible`` for *user*, for a prepared query (``Viewer`` rebuilds the user):
    ``scope``'s, and for a reporter their id and whether they have a department (and its id)."""
    shape, values = scope_viewer(user)
    if user.role != "reporter":
        return shape, values
    values["viewer_id"] = user.id
    if user.department_id:
        values["viewer_department"] = user.department_id
    return (*shape, bool(user.department_id)), values


def can_see(user, ticket):
    """Tell, without a query, whether *user* may see *ticket* (the same rule as ``visible``)."""
    if user.role == "admin":
        return True
    if user.organization_id not in (ticket.hospital_id, ticket.vendor_id):
        return False
    if user.role == "reporter":
        return ticket.reporter_id == user.id or bool(user.department_id and ticket.department_id == user.department_id)
    return True


def get_visible(user, ticket_id, for_update=False):
    """The ticket if *user* may see it; else 404 (audited when the ticket exists elsewhere).

    Writers call it once before their transaction, so the audit row of a refusal is committed
    rather than rolled back with the refused change, and again inside it to lock the row.
    """
    query = visible(Ticket.select(), user).where(Ticket.id == ticket_id)
    if for_update and is_postgres():
        query = query.for_update(of=Ticket)
    ticket = query.first()
    if ticket is None:
        if Ticket.select().where(Ticket.id == ticket_id).exists():
            with db.atomic():
                audit.record("access_denied", object_type="Ticket", object_id=ticket_id, summary="ticket outside scope")
        raise ApiError(404, _("No such ticket."))
    return ticket


def visible_contracts(user):
    return scope(Contract.select(), user, hospital=Contract.hospital, vendor=Contract.vendor)


def _app():
    return current_app._get_current_object()


def _invalid(details):
    if details:
        raise ApiError(422, _("The request has invalid fields."), details=details)


def create_ticket(data, actor, now=None):
    """Create a ticket from cleaned input; *details* of earlier checks are reported with ours."""
    return create_checked(data, actor, [], now)


def create_checked(data, actor, details, now=None):
    """Check what needs the database, report every problem at once, then create the ticket."""
    now = now or utcnow()
    contract = None
    if data.get("contract_id") is not None:
        contract = visible_contracts(actor).where(Contract.id == data["contract_id"]).first()
        if contract is None:
            details.append(problem("contract_id", _("no such contract among yours")))
    system_id = data.get("system_id")
    if system_id is not None and contract is not None and not CoveredSystem.select().where(
            (CoveredSystem.id == system_id) & (CoveredSystem.contract == contract.id)).exists():
        details.append(problem("system_id", _("not a system covered by this contract")))
    reported_at = data.get("reported_at") or now
    if reported_at > now + CLOCK_SKEW:
        details.append(problem("reported_at", _("must not be in the future")))
    cal = deadlines.calendar()
    if contract is not None and reported_at.astimezone(cal.tz).date() < contract.start_date:
        details.append(problem("reported_at", _("must not be before the contract starts (%(day)s)",
                                                 day=contract.start_date.isoformat())))
    reporter, department, name, department_name = _reporter(actor, data, details, contract)
    _invalid(details)
    # Only the numbering and the writes run under the write lock; the deadline arithmetic and
    # everything else that only reads is done before it.
    ticket = _new_ticket(data, contract, system_id, reporter, department, name, department_name,
                         reported_at, now, cal)
    # Segmenting for the search index is CPU work too (jieba): before the lock, written inside.
    search_strings = search.index_strings(ticket.title, ticket.description)
    with db.atomic():
        ticket.number = next_number(now.astimezone(cal.tz).year)
        ticket.save(force_insert=True)
        search.write_rows([(ticket.id, *search_strings)])
        TicketEvent.create(ticket=ticket.id, kind="created", at=reported_at, actor=actor.id, to_status="new",
                           body=ticket.title)
        audit.record("create", ticket, summary=ticket.number, user=actor,
                     changes=audit.model_changes({}, audit.snapshot(ticket)))
        signals.ticket_created.send(_app(), ticket=ticket)
    return ticket


def _new_ticket(data, contract, system_id, reporter, department, name, department_name, reported_at, now, cal):
    """Build the unsaved ticket with its deadlines (no number yet: that is taken under the lock)."""
    ticket = Ticket(
        contract=contract.id, hospital=contract.hospital_id, vendor=contract.vendor_id, system=system_id,
        title=data["title"], description=data.get("description") or "",
        reporter=reporter, department=department, reporter_name=name,
        reporter_department=department_name, reporter_phone=data.get("reporter_phone") or "",
        channel=data.get("channel") or "portal", category=data["category"], priority=data["priority"],
        status="new", reported_at=reported_at, created_at=now, updated_at=now,
    )
    ticket.contract = contract
    deadlines.recompute(ticket, cal)
    return ticket


def _reporter(actor, data, details, contract):
    """Who reported: the hospital user filing it, or the name/department/phone an engineer took down
    (the department is linked when the hospital has one of that name, so its users see the ticket)."""
    name = data.get("reporter_name") or ""
    department_name = data.get("reporter_department") or ""
    if actor.role in ("reporter", "hospital_it") and not name.strip():
        department = actor.department_id
        return actor.id, department, actor.display_name or actor.username, (
            actor.department.name if department else department_name)
    if not name.strip():
        details.append(problem("reporter_name", _("name who reported the problem")))
    department = None
    if department_name and contract is not None:
        department = Department.get_or_none((Department.organization == contract.hospital_id)
                                            & (Department.name == department_name))
    return None, department.id if department else None, name, department_name


def last_step_at(ticket):
    """The time of the latest workflow event (comments and SLA notes do not count)."""
    return (TicketEvent.select(fn.MAX(TicketEvent.at))
            .where((TicketEvent.ticket == ticket.id) & TicketEvent.kind.not_in(SIDE_EVENTS)).scalar())


def _check_at(ticket, data, now, details):
    at = data.get("at") or now
    if at > now + CLOCK_SKEW:
        details.append(problem("at", _("must not be in the future")))
    previous = last_step_at(ticket)
    if previous is not None and at < previous:
        details.append(problem("at", _("must not be earlier than the previous event (%(at)s)",
                                       at=previous.isoformat())))
    return at


def transition(ticket_id, action, data, actor, now=None):
    """Perform *action* on the ticket as *actor*; return the changed ticket."""
    now = now or utcnow()
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise ApiError(422, _("Unknown action."), details=[problem("action", _("unknown action"))])
    get_visible(actor, ticket_id)
    with db.atomic():
        ticket = get_visible(actor, ticket_id, for_update=True)
        if not role_may(actor.role, action):
            raise ApiError(403, _("Your role may not do this to a ticket: %(action)s.", action=rule.label))
        if not state_allows(ticket.status, action):
            raise ApiError(409, _("A ticket that is %(status)s cannot take the action %(action)s.",
                                  status=STATUS_LABELS[ticket.status], action=rule.label))
        if blocked_by_authorization(ticket, action):
            raise ApiError(409, _("A data correction needs the hospital IT department's authorization "
                                  "before work starts or it is resolved."))
        details = []
        at = _check_at(ticket, data, now, details)
        comment = data.get("comment") or ""
        if rule.needs_comment and not comment.strip():
            details.append(problem("comment", _("give the reason; the hospital sees it")))
        assignee = _action_checks(ticket, action, data, actor, details)
        _invalid(details)
        before = audit.snapshot(ticket)
        from_status = ticket.status
        _apply(ticket, action, data, actor, at, assignee, comment)
        if rule.target is not None:
            ticket.status = rule.target
        deadlines.recompute(ticket)
        if ticket.status in RUNNING_STATUSES and ticket.resolve_due is not None and ticket.resolve_due <= at:
            ticket.resolve_breached = True
        ticket.updated_at = now
        ticket.save()
        event = TicketEvent.create(ticket=ticket.id, kind=action, at=at, actor=actor.id, from_status=from_status,
                                   to_status=ticket.status, body=comment)
        audit.record("transition", ticket, summary=f"{ticket.number} {action}", user=actor,
                     changes=audit.model_changes(before, audit.snapshot(ticket)))
        signals.ticket_status_changed.send(_app(), ticket=ticket, event=event, from_status=from_status,
                                           to_status=ticket.status)
    return ticket


def _action_checks(ticket, action, data, actor, details):
    if action == "resolve":
        if not (data.get("resolution") or "").strip():
            details.append(problem("resolution", _("describe how the problem was solved")))
        if ticket.priority in ("P1", "P2") and not (data.get("root_cause") or "").strip():
            details.append(problem("root_cause", _("a P1/P2 problem needs a root cause analysis")))
    if action == "confirm" and data.get("satisfaction") is None:
        details.append(problem("satisfaction", _("rate the service from 1 to 5")))
    assignee_id = data.get("assignee_id")
    if assignee_id is None:
        return None
    if action != "accept":
        details.append(problem("assignee_id", _("only accepting a ticket assigns it")))
        return None
    assignee = User.get_or_none((User.id == assignee_id) & (User.organization == ticket.vendor_id)
                                & User.role.in_(VENDOR_ROLES) & (User.active == True))  # noqa: E712
    if assignee is None:
        details.append(problem("assignee_id", _("not an engineer of this ticket's vendor")))
    return assignee


def _close_pause(ticket, at):
    TicketPause.update(ended_at=at).where((TicketPause.ticket == ticket.id) & TicketPause.ended_at.is_null()).execute()
    ticket.paused_since = None


def _apply(ticket, action, data, actor, at, assignee, comment):
    if action == "accept":
        ticket.accepted_at, ticket.accepted_by = at, actor.id
        ticket.first_response_at = ticket.first_response_at or at
        ticket.assignee = assignee.id if assignee else (ticket.assignee_id or (
            actor.id if actor.role in VENDOR_ROLES else None))
        ticket.response_breached |= ticket.response_due is not None and at > ticket.response_due
    elif action == "arrive_onsite":
        if ticket.onsite_arrived_at is None:
            ticket.onsite_arrived_at = at
            ticket.onsite_breached = ticket.onsite_due is not None and at > ticket.onsite_due
    elif action in ("wait_customer", "request_authorization"):
        TicketPause.create(ticket=ticket.id, started_at=at, reason=comment, status=TRANSITIONS[action].target)
        ticket.paused_since = at
    elif action in ("authorize", "resume"):
        _close_pause(ticket, at)
        if action == "authorize":
            ticket.authorized_by, ticket.authorized_at = actor.id, at
    elif action == "resolve":
        ticket.resolved_at = at
        ticket.resolution = data["resolution"]
        ticket.root_cause = data.get("root_cause") or ticket.root_cause
        ticket.kb_article_id = data.get("kb_article_id") or ticket.kb_article_id
        ticket.resolve_breached |= ticket.resolve_due is not None and at > ticket.resolve_due
    elif action == "confirm":
        ticket.confirmed_by, ticket.confirmed_at = actor.id, at
        ticket.satisfaction = data["satisfaction"]
        ticket.closed_at = at
    elif action == "reopen":
        # The time the ticket waited for confirmation is not the vendor's: it is a pause.
        TicketPause.create(ticket=ticket.id, started_at=min(ticket.resolved_at or at, at), ended_at=at, reason=comment,
                           status="resolved")
        ticket.resolved_at = None
        ticket.confirmed_by = ticket.confirmed_at = ticket.satisfaction = None
    elif action == "close":
        if ticket.status in PAUSE_STATUSES:
            _close_pause(ticket, at)
        ticket.closed_at = at


def add_comment(ticket_id, body, actor, now=None):
    """Add a comment event to a ticket the actor may see."""
    now = now or utcnow()
    get_visible(actor, ticket_id)
    with db.atomic():
        ticket = get_visible(actor, ticket_id)
        event = TicketEvent.create(ticket=ticket.id, kind="comment", at=now, actor=actor.id,
                                   from_status=ticket.status, to_status=ticket.status, body=body)
        audit.record("comment", ticket, summary=ticket.number, user=actor)
    return event


def record_data_change(ticket_id, data, actor, now=None):
    """Record what an engineer ran against the hospital's data; refused (409) without authorization."""
    now = now or utcnow()
    get_visible(actor, ticket_id)
    with db.atomic():
        ticket = get_visible(actor, ticket_id, for_update=True)
        if actor.role not in VENDOR_ROLES and actor.role != "admin":
            raise ApiError(403, _("Only the vendor's engineers record data changes."))
        if ticket.authorized_at is None:
            raise ApiError(409, _("This ticket has no authorization from the hospital IT department: "
                                  "no data may be changed."))
        if ticket.status != "in_progress":
            raise ApiError(409, _("Data changes are recorded while the ticket is in progress."))
        record = chain.append(ticket, actor, data["script"], data["affected_rows"],
                              data.get("before_summary") or "", data.get("after_summary") or "", at=now)
        TicketEvent.create(ticket=ticket.id, kind="data_change", at=now, actor=actor.id,
                           from_status=ticket.status, to_status=ticket.status,
                           body=_("%(n)d rows changed", n=data["affected_rows"]))
    return record
