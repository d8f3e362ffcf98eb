"""/api/v1/tickets: list, create, read with the timeline, transitions, comments, data changes."""

import re
from zoneinfo import ZoneInfo

from flask import current_app
from flask import jsonify
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from peewee import SQL
from peewee import BooleanField

from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.endpoint import json_body
from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.api.pagination import cursor_id
from portal.api.pagination import keyset_result
from portal.api.pagination import page_args
from portal.api.validation import DateTime
from portal.api.validation import Integer
from portal.api.validation import Text
from portal.api.validation import validate
from portal.permissions import Viewer
from portal.prepared import prepared
from portal.tickets import search
from portal.tickets import service
from portal.tickets.models import CATEGORIES
from portal.tickets.models import CHANNELS
from portal.tickets.models import PRIORITIES
from portal.tickets.models import STATUSES
from portal.tickets.models import Ticket
from portal.tickets.models import TicketEvent
from portal.tickets.workflow import ACTIONS
from portal.times import stored_iso

blueprint = api_blueprint("tickets_api", __name__)
MAX_ID = 2**63 - 1
NUMBER = re.compile(r"^T\d{4}-\d{6}$")

CREATE_BODY = {
    "contract_id": Integer(minimum=1, maximum=MAX_ID, required=True),
    "title": Text(max_length=200, min_length=1, required=True),
    "description": Text(max_length=20000, multiline=True),
    "category": Text(choices=CATEGORIES, required=True),
    "priority": Text(choices=PRIORITIES, required=True),
    "channel": Text(choices=CHANNELS),
    "system_id": Integer(minimum=1, maximum=MAX_ID, nullable=True),
    "reported_at": DateTime(nullable=True, description="default now; not in the future, not before the contract start"),
    "reporter_name": Text(max_length=100),
    "reporter_department": Text(max_length=100),
    "reporter_phone": Text(max_length=50),
}
TRANSITION_BODY = {
    "action": Text(choices=ACTIONS, required=True),
    "comment": Text(max_length=5000, multiline=True),
    "resolution": Text(max_length=20000, multiline=True),
    "root_cause": Text(max_length=20000, multiline=True),
    "satisfaction": Integer(minimum=1, maximum=5, nullable=True),
    "at": DateTime(nullable=True),
    "assignee_id": Integer(minimum=1, maximum=MAX_ID, nullable=True),
    "kb_article_id": Integer(minimum=1, maximum=MAX_ID, nullable=True),
}
COMMENT_BODY = {"body": Text(max_length=20000, min_length=1, multiline=True, required=True)}
DATA_CHANGE_BODY = {
    "script": Text(max_length=200000, min_length=1, multiline=True, required=True),
    "affected_rows": Integer(minimum=0, maximum=10**12, required=True),
    "before_summary": Text(max_length=20000, multiline=True),
    "after_summary": Text(max_length=20000, multiline=True),
}
LIST_QUERY = {
    "status": Text(choices=STATUSES), "priority": Text(choices=PRIORITIES),
    "contract_id": Integer(minimum=1), "assignee_id": Integer(minimum=1), "q": Text(max_length=100),
}

_TIME = {"type": ["string", "null"], "format": "date-time"}
_INT_OR_NULL = {"type": ["integer", "null"]}
EVENT_SCHEMA = {"type": "object", "properties": {
    "kind": {"type": "string"}, "at": {"type": "string"}, "actor_id": _INT_OR_NULL,
    "from_status": {"type": "string"}, "to_status": {"type": "string"}, "body": {"type": "string"}}}
TICKET_SCHEMA = {"type": "object", "required": ["id", "number", "status"], "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "status": {"type": "string"},
    "contract_id": {"type": "integer"}, "hospital_id": {"type": "integer"}, "vendor_id": {"type": "integer"},
    "system_id": _INT_OR_NULL, "title": {"type": "string"}, "description": {"type": "string"},
    "category": {"type": "string"}, "priority": {"type": "string"}, "channel": {"type": "string"},
    "reporter_id": _INT_OR_NULL, "reporter_name": {"type": "string"}, "reporter_department": {"type": "string"},
    "reporter_phone": {"type": "string"}, "assignee_id": _INT_OR_NULL, "accepted_by_id": _INT_OR_NULL,
    "reported_at": {"type": "string"}, "accepted_at": _TIME, "first_response_at": _TIME,
    "onsite_arrived_at": _TIME, "resolved_at": _TIME, "closed_at": _TIME, "authorized_at": _TIME,
    "confirmed_at": _TIME, "response_due": _TIME, "onsite_due": _TIME, "resolve_due": _TIME,
    "paused_minutes": {"type": "integer"}, "response_breached": {"type": "boolean"},
    "onsite_breached": {"type": "boolean"}, "resolve_breached": {"type": "boolean"},
    "sla_level": {"type": "integer"}, "resolution": {"type": "string"}, "root_cause": {"type": "string"},
    "satisfaction": _INT_OR_NULL, "kb_article_id": _INT_OR_NULL,
    "events": {"type": "array", "items": EVENT_SCHEMA}}}
LIST_SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": TICKET_SCHEMA},
                                                "next_cursor": {"type": ["string", "null"]}}}
DATA_CHANGE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "affected_rows": {"type": "integer"},
    "recorded_at": {"type": "string"}, "prev_hash": {"type": "string"}, "hash": {"type": "string"}}}


def iso(value, zone=None):
    """An aware time as ISO 8601 in the installation's time zone (None stays None); pass *zone*
    when converting many."""
    if value is None:
        return None
    return value.astimezone(zone or ZoneInfo(current_app.config["TIMEZONE"])).isoformat()


def event_json(event):
    return {"kind": event.kind, "at": iso(event.at), "actor_id": event.actor_id, "from_status": event.from_status,
            "to_status": event.to_status, "body": event.body}


JSON_PLAIN = ("id", "number", "status", "title", "description", "category", "priority", "channel", "reporter_name",
              "reporter_department", "reporter_phone", "paused_minutes", "response_breached", "onsite_breached",
              "resolve_breached", "sla_level", "resolution", "root_cause", "satisfaction", "kb_article_id")
JSON_LINKS = ("contract", "hospital", "vendor", "system", "reporter", "assignee", "accepted_by")
JSON_TIMES = ("reported_at", "accepted_at", "first_response_at", "onsite_arrived_at", "resolved_at", "closed_at",
              "authorized_at", "confirmed_at", "response_due", "onsite_due", "resolve_due")
#: The flags among them: SQLite stores them as 0/1.
JSON_FLAGS = tuple(name for name in JSON_PLAIN if isinstance(Ticket._meta.fields[name], BooleanField))
#: What a list reads per ticket: the columns ticket_json shows, no more, all as stored (the times
#: and flags are written by values_json; a converter per column and row cost a quarter of a page).
JSON_COLUMNS = tuple(Ticket._meta.fields[name] for name in (*JSON_PLAIN, *JSON_LINKS, *JSON_TIMES))
LIST_COLUMNS = tuple(column.coerce(False) for column in JSON_COLUMNS)
LIST_NAMES = tuple(column.name for column in JSON_COLUMNS)


def ticket_json(ticket, events=None):
    data = values_json(ticket.__data__, ZoneInfo(current_app.config["TIMEZONE"]))
    if events is not None:
        data["events"] = [event_json(event) for event in events]
    return data


def values_json(values, zone):
    """A ticket's JSON from its values by field name, a link holding the linked id: a model's
    ``__data__`` or a list row as stored (times as stored, flags 0/1 on SQLite). Lists read rows:
    building 50 models cost more than the query."""
    data = {name: values.get(name) for name in JSON_PLAIN}
    for name in JSON_FLAGS:
        if data[name] is not None:
            data[name] = bool(data[name])
    for name in JSON_LINKS:
        data[f"{name}_id"] = values.get(name)
    for name in JSON_TIMES:
        stored = values.get(name)
        data[name] = None if stored is None else stored_iso(stored, zone)
    return data


def full_json(ticket):
    events = TicketEvent.select().where(TicketEvent.ticket == ticket.id).order_by(TicketEvent.at, TicketEvent.id)
    return ticket_json(ticket, list(events))


def validate_each(spec, body):
    """Validate field by field so every problem is known before the database checks run."""
    if not isinstance(body, dict):
        validate(spec, body)  # raises the 422 about the body's shape
    cleaned, details = {}, []
    for name in body:
        if name not in spec:
            details.append(problem(name, _("unknown field")))
    for name, check in spec.items():
        try:
            cleaned.update(validate({name: check}, {name: body[name]} if name in body else {}))
        except ApiError as error:
            details.extend(error.details)
    return cleaned, details


def number_condition(number):
    """The ticket numbered *number* (``T2026-000123``)."""
    return Ticket.number == number


def search_condition(q):
    """``T2026-000123``: that ticket; otherwise tickets whose title or description has every word
    of *q* (segmented index, portal/tickets/search.py); a query without words matches nothing."""
    if NUMBER.match(q):
        return number_condition(q)
    condition = search.matching(q)
    return condition if condition is not None else SQL("1 = 0")


def _ticket_id(ticket_id):
    if not 0 < ticket_id <= MAX_ID:
        raise ApiError(404, _("No such ticket."))
    return ticket_id


def _user():
    return current_user._get_current_object()


#: The list's equality filters: query argument -> column.
LIST_FILTERS = {"status": Ticket.status, "priority": Ticket.priority, "contract_id": Ticket.contract,
                "assignee_id": Ticket.assignee}


@prepared
def _list_page(shape, limit, **values):
    seen_by, filters, searched, after_cursor = shape
    query = service.visible(Ticket.select(*LIST_COLUMNS), Viewer(seen_by, values))
    for name in filters:
        query = query.where(LIST_FILTERS[name] == values[name])
    order = Ticket.id
    if searched == ("number",):
        query = query.where(number_condition(values["number"]))
    elif searched:
        query, order = search.narrowed(query, searched, values)
    if after_cursor:
        query = query.where(order < values["before"])
    return query.tuples().order_by(order.desc()).limit(limit)


@blueprint.get("/tickets")
@api_endpoint("List tickets", resource="tickets", query=LIST_QUERY, response=LIST_SCHEMA)
def list_tickets():
    raw = {name: request.args[name] for name in LIST_QUERY if name in request.args}
    for name in ("contract_id", "assignee_id"):
        if name in raw:
            raw[name] = int(raw[name]) if raw[name].isdigit() and len(raw[name]) < 19 else raw[name]
    args = validate(LIST_QUERY, raw)
    limit, cursor = page_args()
    seen_by, values = service.viewer(_user())
    filters = tuple(name for name in LIST_FILTERS if args.get(name) is not None)
    values.update((name, args[name]) for name in filters)
    q = (args.get("q") or "").strip()
    searched = None
    if q and NUMBER.match(q):
        searched, values["number"] = ("number",), q
    elif q:
        found = search.search_values(q)
        if found is None:
            return jsonify({"items": [], "next_cursor": None})
        searched = found[0]
        values.update(found[1])
    if cursor:
        values["before"] = cursor_id(cursor)
    rows = [dict(zip(LIST_NAMES, row)) for row in
            _list_page.as_stored((seen_by, filters, searched, bool(cursor)), limit=limit + 1, **values)]
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return jsonify(keyset_result(rows, limit, "id", lambda row: values_json(row, zone)))


@blueprint.post("/tickets")
@api_endpoint("Report a ticket", resource="tickets", action="create", body=CREATE_BODY, response=TICKET_SCHEMA,
              status=201)
def create_ticket():
    data, details = validate_each(CREATE_BODY, json_body())
    ticket = service.create_checked(data, _user(), details)
    return jsonify(full_json(ticket)), 201


@blueprint.get("/tickets/<int:ticket_id>")
@api_endpoint("One ticket with its timeline", resource="tickets", response=TICKET_SCHEMA)
def get_ticket(ticket_id):
    return jsonify(full_json(service.get_visible(_user(), _ticket_id(ticket_id))))


@blueprint.post("/tickets/<int:ticket_id>/transitions")
@api_endpoint("Move a ticket through its workflow", resource="tickets", body=TRANSITION_BODY,
              response=TICKET_SCHEMA)
def transition(ticket_id):
    data = validate(TRANSITION_BODY, json_body())
    ticket = service.transition(_ticket_id(ticket_id), data["action"], data, _user())
    return jsonify(full_json(ticket))


@blueprint.post("/tickets/<int:ticket_id>/comments")
@api_endpoint("Comment on a ticket", resource="tickets", body=COMMENT_BODY, response=EVENT_SCHEMA, status=201)
def comment(ticket_id):
    data = validate(COMMENT_BODY, json_body())
    return jsonify(event_json(service.add_comment(_ticket_id(ticket_id), data["body"], _user()))), 201


@blueprint.post("/tickets/<int:ticket_id>/data-changes")
@api_endpoint("Record an authorized data change (hash-chained)", resource="tickets", body=DATA_CHANGE_BODY,
              response=DATA_CHANGE_SCHEMA, status=201)
def data_change(ticket_id):
    data = validate(DATA_CHANGE_BODY, json_body())
    record = service.record_data_change(_ticket_id(ticket_id), data, _user())
    return jsonify({"id": record.id, "ticket_id": record.ticket_id, "affected_rows": record.affected_rows,
                    "recorded_at": iso(record.recorded_at), "prev_hash": record.prev_hash,
                    "hash": record.hash}), 201
