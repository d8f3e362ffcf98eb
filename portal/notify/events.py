"""Signal receivers: ticket and form events become outbox rows in the sender's transaction.

Every receiver runs inside the transaction of the change (the signals are sent inside it), so a
rolled-back change leaves no notification, and a committed one always has its rows.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.notify.recipients import dispatch
from portal.notify.recipients import hospital_it
from portal.notify.recipients import off_hours
from portal.notify.recipients import on_duty
from portal.notify.recipients import vendor_staff

EVENT_LABELS = {
    "ticket_created": _l("Ticket created"),
    "ticket_accepted": _l("Ticket accepted"),
    "ticket_waiting_authorization": _l("Ticket waits for authorization"),
    "ticket_resolved": _l("Ticket resolved"),
    "ticket_reopened": _l("Ticket reopened"),
    "sla_warning": _l("SLA warning"),
    "sla_breached": _l("SLA breached"),
    "quota_threshold": _l("Quota threshold reached"),
    "contract_expiry": _l("Contract expires soon"),
    "payment_due": _l("Payment due"),
    "inspection_due": _l("Inspection due"),
    "report_due": _l("Report due"),
    "submission_transitioned": _l("Form workflow step"),
}
TARGET_LABELS = {"response": _l("response"), "onsite": _l("on-site arrival"), "resolve": _l("resolution")}


def _user(user_id):
    return User.get_or_none(User.id == user_id) if user_id else None


def _ticket_url(ticket):
    return f"/tickets/{ticket.id}"


def _engineers(ticket):
    """The assignee, else whoever the duty roster puts on call (off hours), else the vendor's engineers."""
    assignee = _user(ticket.assignee_id)
    if assignee is not None:
        return [assignee]
    return on_duty(ticket.vendor_id, ticket.hospital_id, ticket.updated_at) or vendor_staff(ticket.vendor_id, ("engineer",))


def ticket_created(sender, ticket, **extra):
    """To the on-duty engineer at night and on holidays (duty roster), else the vendor's staff."""
    at = ticket.created_at
    users = on_duty(ticket.vendor_id, ticket.hospital_id, at) if off_hours(at) else []
    if not users:
        assignee = _user(ticket.assignee_id)
        users = [assignee] if assignee else vendor_staff(ticket.vendor_id)

    def message():
        return {"title": _("New ticket %(number)s: %(title)s", number=ticket.number, title=ticket.title),
                "body": _("Priority %(priority)s, reported by %(reporter)s (%(department)s).",
                          priority=ticket.priority, reporter=ticket.reporter_name or "-",
                          department=ticket.reporter_department or "-"),
                "url": _ticket_url(ticket), "link_text": _("Open the ticket"),
                "object": {"type": "ticket", "id": ticket.id, "number": ticket.number}}

    dispatch("ticket_created", ticket, users, message, f"ticket:{ticket.id}:created",
             urgent=ticket.priority == "P1", now=at)


def ticket_status_changed(sender, ticket, event, from_status, to_status, **extra):
    """accepted → the reporter; waiting for authorization → the hospital's IT department;
    resolved → the reporter (confirm-and-rate link); reopened → the engineers."""
    reporter = _user(ticket.reporter_id)
    obj = {"type": "ticket", "id": ticket.id, "number": ticket.number}
    if to_status == from_status:
        return
    if to_status == "accepted":
        name, users = "ticket_accepted", [reporter] if reporter else hospital_it(ticket.hospital_id)

        def message():
            engineer = _user(ticket.assignee_id)
            return {"title": _("Ticket %(number)s was accepted", number=ticket.number),
                    "body": _("%(engineer)s is working on: %(title)s", engineer=engineer or _("The vendor"),
                              title=ticket.title), "url": _ticket_url(ticket), "link_text": _("Open the ticket"),
                    "object": obj}
    elif to_status == "waiting_authorization":
        name, users = "ticket_waiting_authorization", hospital_it(ticket.hospital_id)

        def message():
            return {"title": _("Ticket %(number)s waits for your authorization", number=ticket.number),
                    "body": _("%(title)s — reason: %(reason)s", title=ticket.title, reason=event.body or "-"),
                    "url": _ticket_url(ticket), "link_text": _("Review and authorize"), "object": obj}
    elif to_status == "resolved":
        name, users = "ticket_resolved", [reporter] if reporter else hospital_it(ticket.hospital_id)

        def message():
            return {"title": _("Ticket %(number)s is resolved: please confirm and rate", number=ticket.number),
                    "body": _("%(title)s — solution: %(resolution)s", title=ticket.title,
                              resolution=ticket.resolution or "-"),
                    "url": _ticket_url(ticket) + "#confirm", "link_text": _("Confirm and rate"), "object": obj}
    elif to_status == "reopened":
        name, users = "ticket_reopened", _engineers(ticket)

        def message():
            return {"title": _("Ticket %(number)s was reopened", number=ticket.number),
                    "body": _("%(title)s — reason: %(reason)s", title=ticket.title, reason=event.body or "-"),
                    "url": _ticket_url(ticket), "link_text": _("Open the ticket"), "object": obj}
    else:
        return
    dispatch(name, ticket, users, message, f"ticket:{ticket.id}:{name}:{event.id}", now=event.at)


def escalation(ticket, level):
    """The ladder: 50% the engineers, 75%/90% also the vendor's managers, breach also hospital IT."""
    users = list(_engineers(ticket))
    if level >= 75:
        users += vendor_staff(ticket.vendor_id, ("manager",))
    if level >= 100:
        users += hospital_it(ticket.hospital_id)
    return users


def sla_warning(sender, ticket, target, level, now=None, **extra):
    def message():
        return {"title": _("SLA %(level)s%% reached: ticket %(number)s (%(target)s)", level=level,
                           number=ticket.number, target=TARGET_LABELS.get(target, target)),
                "body": _("%(title)s — priority %(priority)s", title=ticket.title, priority=ticket.priority),
                "url": _ticket_url(ticket), "link_text": _("Open the ticket"),
                "object": {"type": "ticket", "id": ticket.id, "number": ticket.number}, "level": level}

    dispatch("sla_warning", ticket, escalation(ticket, level), message, f"ticket:{ticket.id}:sla:{target}:{level}",
             urgent=ticket.priority == "P1", now=now)


def sla_breached(sender, ticket, target, now=None, **extra):
    def message():
        return {"title": _("SLA breached: ticket %(number)s (%(target)s)", number=ticket.number,
                           target=TARGET_LABELS.get(target, target)),
                "body": _("%(title)s — priority %(priority)s", title=ticket.title, priority=ticket.priority),
                "url": _ticket_url(ticket), "link_text": _("Open the ticket"),
                "object": {"type": "ticket", "id": ticket.id, "number": ticket.number}, "level": 100}

    dispatch("sla_breached", ticket, escalation(ticket, 100), message, f"ticket:{ticket.id}:sla:{target}:breach",
             urgent=True, now=now)


def submission_transitioned(sender, submission, action, from_state, to_state, **extra):
    """A form's workflow step: to its author, the hospital's IT department and the vendor's managers
    (each only if they may see the submission)."""
    users = [_user(getattr(submission, "created_by_id", None))]
    users += hospital_it(getattr(submission, "hospital_id", None))
    users += vendor_staff(getattr(submission, "vendor_id", None), ("manager",))
    number = getattr(submission, "number", submission.id)
    stamp = getattr(submission, "updated_at", None)
    suffix = f"{stamp.timestamp():.6f}" if stamp is not None else ""

    def message():
        return {"title": _("Form %(number)s: %(action)s", number=number, action=action),
                "body": _("State %(from)s → %(to)s", **{"from": from_state or "-", "to": to_state or "-"}),
                # The forms package's page path is not settled yet: the object names the submission.
                "object": {"type": "submission", "id": submission.id, "number": str(number)}}

    dispatch("submission_transitioned", submission, users, message,
             f"submission:{submission.id}:{from_state}>{to_state}:{suffix}")


RECEIVERS = {
    "ticket_created": ticket_created,
    "ticket_status_changed": ticket_status_changed,
    "sla_warning": sla_warning,
    "sla_breached": sla_breached,
    "submission_transitioned": submission_transitioned,
}
