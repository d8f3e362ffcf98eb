"""Read form submissions (inspections, requirement assessments, surveys) when the forms plugin is
enabled; without it every function returns nothing, so reports still work on tickets alone.

Requirement milestones (seed 002 二次功能性修改: 10 working days to a clear solution, 20 to done,
30 to online, counted from the hospital's approval). How they are read:

- *requirement*: an approved ``requirement_assessment`` submission of the contract. Its year is the
  year of its ticket's ``reported_at`` when it is linked to a ticket (API.md: a ticket belongs to
  the year it was reported), else the year it was approved.
- *approval*: the time of the submission's transition into the ``approved`` state.
- *solution / done / online*: the dates ``solution_date`` / ``done_date`` / ``online_date`` in the
  submission's data when the contract's form version has such fields (a date counts to the end of
  that working day); otherwise from the linked ticket: solution = first start of work
  (``in_progress``) or resolution, whichever came first; done = ``resolved_at``; online = the
  hospital's confirmation or closing (``closed_at``).
- A milestone not reached by its deadline is missed once the deadline has passed; a requirement
  loses one point at most, however many milestones it missed.
- Requirement tickets with no approved assessment are listed as *not assessed*: without an approval
  there is no deadline, so they are not deducted.
"""

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timezone

from flask import current_app

from portal.calendars.service import current_calendar
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent

INSPECTION_KEYS = ("quarterly_inspection", "pre_holiday_inspection")
MILESTONES = (("solution", 10), ("done", 20), ("online", 30))


def enabled():
    return "forms" in current_app.extensions["weibao"].registry("plugin")


def _models():
    from forms import models

    return models


def submissions(contract, keys, low=None, high=None, states=None):
    """Submissions of form types *keys* for *contract* (created in [low, high) when given)."""
    if not enabled():
        return []
    m = _models()
    query = (m.FormSubmission.select(m.FormSubmission, m.FormType.key)
             .join(m.FormType, on=(m.FormSubmission.form_type == m.FormType.id))
             .where((m.FormSubmission.contract == contract.id) & m.FormType.key.in_(keys)
                    & (m.FormSubmission.is_draft == False)))  # noqa: E712
    if low is not None:
        query = query.where((m.FormSubmission.created_at >= low) & (m.FormSubmission.created_at < high))
    if states:
        query = query.where(m.FormSubmission.state.in_(states))
    return list(query.order_by(m.FormSubmission.created_at, m.FormSubmission.id).objects())


def _day(value):
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def inspection_day(submission):
    """The inspection's own date (data ``inspection_date``), else the local day it was created."""
    day = _day(submission.data.get("inspection_date"))
    return day or submission.created_at.astimezone(current_calendar().tz).date()


def inspections(contract, period):
    """Inspection submissions whose inspection day lies in *period* (looked up with a margin)."""
    if not enabled():
        return []
    rows = submissions(contract, INSPECTION_KEYS)
    return [row for row in rows if period.first <= inspection_day(row) <= period.last]


def _approved_at(submission_ids):
    m = _models()
    if not submission_ids:
        return {}
    rows = (m.SubmissionEvent.select(m.SubmissionEvent.submission, m.SubmissionEvent.at)
            .where(m.SubmissionEvent.submission.in_(submission_ids) & (m.SubmissionEvent.to_state == "approved"))
            .order_by(m.SubmissionEvent.at).tuples())
    found = {}
    for submission_id, at in rows:
        found.setdefault(submission_id, at)
    return found


def _end_of(day):
    cal = current_calendar()
    return datetime.combine(day, cal.work_end, tzinfo=cal.tz).astimezone(timezone.utc)


def _ticket_milestones(ticket_ids):
    if not ticket_ids:
        return {}
    found = {row.id: {"solution": None, "done": row.resolved_at, "online": row.closed_at, "ticket": row}
             for row in Ticket.select().where(Ticket.id.in_(ticket_ids))}
    starts = (TicketEvent.select(TicketEvent.ticket, TicketEvent.at)
              .where(TicketEvent.ticket.in_(ticket_ids) & (TicketEvent.to_status == "in_progress"))
              .order_by(TicketEvent.at).tuples())
    for ticket_id, at in starts:
        entry = found.get(ticket_id)
        if entry is not None and entry["solution"] is None:
            entry["solution"] = at
    for entry in found.values():
        candidates = [at for at in (entry["solution"], entry["done"]) if at is not None]
        entry["solution"] = min(candidates) if candidates else None
    return found


def requirements(contract, period, now):
    """Approved requirements of *period* with their deadlines, milestones and verdicts."""
    if not enabled():
        return []
    cal = current_calendar()
    rows = submissions(contract, ("requirement_assessment",), states=("approved",))
    approved = _approved_at([row.id for row in rows])
    tickets = _ticket_milestones([row.ticket_id for row in rows if row.ticket_id])
    result = []
    for row in rows:
        approval = approved.get(row.id) or row.updated_at
        linked = tickets.get(row.ticket_id)
        belongs = linked["ticket"].reported_at if linked else approval
        if not period.low <= belongs < period.high:
            continue
        data = row.data
        item = {"submission": row, "ticket": linked["ticket"] if linked else None, "approved_at": approval,
                "title": str(data.get("title") or row.number), "milestones": [], "missed": False}
        for name, days in MILESTONES:
            due = cal.add_business_minutes(approval, days * cal.minutes_per_day)
            day = _day(data.get(f"{name}_date"))
            reached = _end_of(day) if day else (linked[name] if linked else None)
            late = (reached > due) if reached is not None else now > due
            item["milestones"].append({"name": name, "days": days, "due": due, "reached": reached, "late": late})
            item["missed"] |= late
        result.append(item)
    return result


def unassessed_requirement_tickets(contract, period):
    """Requirement tickets of *period* with no approved assessment (listed, never deducted)."""
    query = (Ticket.select(Ticket.id, Ticket.number, Ticket.title, Ticket.status, Ticket.reported_at)
             .where((Ticket.contract == contract.id) & (Ticket.category == "requirement")
                                   & (Ticket.reported_at >= period.low) & (Ticket.reported_at < period.high)))
    if enabled():
        m = _models()
        assessed = (m.FormSubmission.select(m.FormSubmission.ticket_id)
                    .join(m.FormType, on=(m.FormSubmission.form_type == m.FormType.id))
                    .where((m.FormType.key == "requirement_assessment") & (m.FormSubmission.state == "approved")
                           & m.FormSubmission.ticket_id.is_null(False)))
        query = query.where(Ticket.id.not_in(assessed))
    return list(query.order_by(Ticket.reported_at, Ticket.id))


def survey_ratings(contract, year):
    """(count, sum) of survey answers on a 1–5 scale from ``satisfaction_survey`` submissions of
    *year* (data ``year``): each answer counts as one rating of ``percent`` / 20."""
    count, total = 0, 0.0
    for row in submissions(contract, ("satisfaction_survey",)):
        if str(row.data.get("year")) != str(year):
            continue
        percent = row.computed.get("percent")
        if isinstance(percent, (int, float)) and 0 <= percent <= 100:
            count += 1
            total += percent / 20
    return count, total


def day_start(day):
    return datetime.combine(day, time(0), tzinfo=current_calendar().tz).astimezone(timezone.utc)
