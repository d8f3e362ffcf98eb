"""Pages for people: report a problem (phone-friendly), my tickets with confirm-and-rate, the
engineer queue by nearest deadline, and the ticket page with its timeline and allowed actions."""

from collections import namedtuple

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from peewee import JOIN

from portal.accounts.models import User
from portal.admin import local_time
from portal.api.errors import ApiError
from portal.api.validation import validate
from portal.auth import role_required
from portal.contracts.models import CoveredSystem
from portal.permissions import Viewer
from portal.prepared import prepared
from portal.tickets import api
from portal.tickets import queue_order
from portal.tickets import service
from portal.tickets.models import CATEGORIES
from portal.tickets.models import CHANNELS
from portal.tickets.models import PRIORITIES
from portal.tickets.models import DataChangeRecord
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from portal.tickets.models import TicketPause
from portal.tickets.rows import QueueRows
from portal.tickets.workflow import CATEGORY_LABELS
from portal.tickets.workflow import CHANNEL_LABELS
from portal.tickets.workflow import EVENT_LABELS
from portal.tickets.workflow import PRIORITY_LABELS
from portal.tickets.workflow import STATUS_LABELS
from portal.tickets.workflow import TRANSITIONS
from portal.tickets.workflow import allowed_actions

blueprint = Blueprint("tickets", __name__, template_folder="templates")
PAGE = 30
#: The queue shows the nearest deadlines a page at a time; an engineer works from the top, and
#: 50 rows render in a third of the time 200 did (bench/README.md).
QUEUE_PAGE = 50
QUEUE_MAX_PAGES = 20
#: What a row of the queue shows: reading whole tickets (50 columns, 15 of them times) cost more
#: than rendering them. Times as stored: QueueRows shows them through times.stored_local.
ROW_COLUMNS = (Ticket.id, Ticket.number, Ticket.title, Ticket.priority, Ticket.status, Ticket.reported_at.coerce(False),
               Ticket.response_due.coerce(False), Ticket.resolve_due.coerce(False), Ticket.response_breached,
               Ticket.resolve_breached, Ticket.sla_level)
#: A queue row: read, never saved. Building 50 models cost more than rendering them, and peewee's
#: .namedtuples() made a new tuple class on every page.
QueueRow = namedtuple("QueueRow", [column.name for column in ROW_COLUMNS])
REPORTING_ROLES = ("reporter", "hospital_it", "engineer", "manager")


@blueprint.app_context_processor
def _labels():
    return {"status_label": lambda s: STATUS_LABELS.get(s, s), "priority_label": lambda p: PRIORITY_LABELS.get(p, p),
            "category_label": lambda c: CATEGORY_LABELS.get(c, c), "channel_label": lambda c: CHANNEL_LABELS.get(c, c),
            "local_time": local_time}


def _user():
    return current_user._get_current_object()


def _not_found():
    return render_template("tickets/not_found.html"), 404


def _problems(error):
    """Flash an ApiError's message and each field problem."""
    flash(error.message, "error")
    for detail in error.details:
        flash(f"{detail['field']}: {detail['message']}", "error")


@blueprint.route("/tickets/new", methods=["GET", "POST"])
@role_required(*REPORTING_ROLES)
def new():
    contracts = list(service.visible_contracts(_user()).order_by(service.Contract.id))
    systems = list(CoveredSystem.select().where(CoveredSystem.contract.in_([c.id for c in contracts]))
                   .order_by(CoveredSystem.contract, CoveredSystem.name)) if contracts else []
    form = dict(request.form) if request.method == "POST" else {"priority": "P3", "category": "fault"}
    status = 200
    if request.method == "POST":
        body = {name: value for name, value in request.form.items() if name in api.CREATE_BODY and value != ""}
        for name in ("contract_id", "system_id"):
            if name in body:
                body[name] = int(body[name]) if body[name].isdigit() and len(body[name]) < 19 else body[name]
        data, details = api.validate_each(api.CREATE_BODY, body)
        try:
            ticket = service.create_checked(data, _user(), details)
        except ApiError as error:
            _problems(error)
            status = error.status
        else:
            flash(_("Your problem was registered as %(number)s.", number=ticket.number), "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket.id))
    return render_template("tickets/new.html", contracts=contracts, systems=systems, form=form,
                           priorities=PRIORITIES, categories=CATEGORIES, channels=CHANNELS,
                           vendor_user=_user().role in ("engineer", "manager", "admin")), status


@blueprint.get("/tickets/mine")
@login_required
def mine():
    query = service.visible(Ticket.select(), _user())
    if current_user.role in ("engineer", "manager"):
        query = query.where(Ticket.assignee == current_user.id)
    else:
        query = query.where(Ticket.reporter == current_user.id)
    before = request.args.get("before", "")
    if before.isdigit() and len(before) < 19:
        query = query.where(Ticket.id < int(before))
    rows = list(query.order_by(Ticket.id.desc()).limit(PAGE + 1))
    more = rows[PAGE - 1].id if len(rows) > PAGE else None
    return render_template("tickets/mine.html", tickets=rows[:PAGE], more=more)


@prepared
def _queue_rows(shape, limit, offset, **values):
    seen_by, mine_only = shape
    query = service.visible(Ticket.select(*ROW_COLUMNS), Viewer(seen_by, values)).where(queue_order.open_tickets())
    if mine_only:
        query = query.where(Ticket.assignee == values["me"])
    return (query.order_by(queue_order.nearest_deadline().asc(nulls="LAST"), Ticket.id)
            .offset(offset).limit(limit).tuples())


@blueprint.get("/tickets/queue")
@role_required("engineer", "manager", "hospital_it")
def queue():
    seen_by, values = service.viewer(_user())
    mine_only = request.args.get("assigned") == "me"
    if mine_only:
        values["me"] = current_user.id
    page = request.args.get("page", "1")
    page = min(int(page), QUEUE_MAX_PAGES) if page.isdigit() and 0 < len(page) < 4 and int(page) > 0 else 1
    rows = [QueueRow._make(row) for row in
            _queue_rows((seen_by, mine_only), limit=QUEUE_PAGE + 1, offset=(page - 1) * QUEUE_PAGE, **values)]
    more = len(rows) > QUEUE_PAGE and page < QUEUE_MAX_PAGES
    return render_template("tickets/queue.html", rows=QueueRows().render(rows[:QUEUE_PAGE]), page=page, more=more,
                           assigned="me" if mine_only else None, last_page=page == QUEUE_MAX_PAGES and len(rows) > QUEUE_PAGE)


@blueprint.get("/tickets/<int:ticket_id>")
@login_required
def detail(ticket_id):
    try:
        ticket = service.get_visible(_user(), api._ticket_id(ticket_id))
    except ApiError:
        return _not_found()
    # Each event names its actor: load them with the events (never the password hash).
    events = list(TicketEvent.select(TicketEvent, User.id, User.username, User.display_name)
                  .join(User, JOIN.LEFT_OUTER, on=(TicketEvent.actor == User.id), attr="actor")
                  .where(TicketEvent.ticket == ticket.id).order_by(TicketEvent.at, TicketEvent.id))
    data_changes = list(DataChangeRecord.select(DataChangeRecord, User.id, User.username, User.display_name)
                        .join(User, on=(DataChangeRecord.engineer == User.id), attr="engineer")
                        .where(DataChangeRecord.ticket == ticket.id).order_by(DataChangeRecord.id))
    pauses = list(TicketPause.select().where(TicketPause.ticket == ticket.id).order_by(TicketPause.started_at))
    actions = allowed_actions(ticket, current_user.role)
    may_record = (current_user.role in ("engineer", "manager", "admin") and ticket.authorized_at is not None
                  and ticket.status == "in_progress")
    return render_template("tickets/detail.html", ticket=ticket, events=events, pauses=pauses, actions=actions,
                           transitions=TRANSITIONS, event_labels=EVENT_LABELS, may_record=may_record,
                           data_changes=data_changes)


@blueprint.post("/tickets/<int:ticket_id>/act")
@login_required
def act(ticket_id):
    fields = {name: value for name, value in request.form.items()
              if name in api.TRANSITION_BODY and value.strip() != ""}
    if "satisfaction" in fields:
        fields["satisfaction"] = int(fields["satisfaction"]) if fields["satisfaction"].isdigit() and len(fields["satisfaction"]) < 3 else fields["satisfaction"]
    try:
        data = validate(api.TRANSITION_BODY, fields)
        service.transition(api._ticket_id(ticket_id), data["action"], data, _user())
    except ApiError as error:
        if error.status == 404:
            return _not_found()
        _problems(error)
    else:
        flash(_("Done."), "success")
    return redirect(request.form.get("next") if request.form.get("next") == url_for("tickets.mine")
                    else url_for("tickets.detail", ticket_id=ticket_id))


@blueprint.post("/tickets/<int:ticket_id>/comment")
@login_required
def comment(ticket_id):
    try:
        data = validate(api.COMMENT_BODY, {"body": request.form.get("body", "")})
        service.add_comment(api._ticket_id(ticket_id), data["body"], _user())
    except ApiError as error:
        if error.status == 404:
            return _not_found()
        _problems(error)
    return redirect(url_for("tickets.detail", ticket_id=ticket_id))


@blueprint.post("/tickets/<int:ticket_id>/data-change")
@role_required("engineer", "manager")
def data_change(ticket_id):
    raw = {name: request.form.get(name, "") for name in api.DATA_CHANGE_BODY}
    raw["affected_rows"] = int(raw["affected_rows"]) if raw["affected_rows"].isdigit() and len(raw["affected_rows"]) < 13 \
        else raw["affected_rows"]
    try:
        data = validate(api.DATA_CHANGE_BODY, raw)
        service.record_data_change(api._ticket_id(ticket_id), data, _user())
    except ApiError as error:
        if error.status == 404:
            return _not_found()
        _problems(error)
    else:
        flash(_("The data change was recorded."), "success")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id))
