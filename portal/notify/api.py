"""/api/v1/notifications: the caller's in-app inbox, and marking an item read."""

from flask import jsonify
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import utcnow
from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.errors import ApiError
from portal.api.pagination import keyset_page
from portal.api.validation import Boolean
from portal.api.validation import validate
from portal.db import db
from portal.notify.models import Notification
from portal.notify.outbox import INBOX

blueprint = api_blueprint("notify_api", __name__)
MAX_ID = 2**63 - 1

LIST_QUERY = {"unread": Boolean(description="only unread items")}
ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "event": {"type": "string"}, "title": {"type": "string"},
        "body": {"type": "string"}, "url": {"type": "string"}, "urgent": {"type": "boolean"},
        "object": {"type": ["object", "null"]}, "created_at": {"type": "string"},
        "read_at": {"type": ["string", "null"]},
    },
}
LIST_SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": ITEM_SCHEMA},
                                                "next_cursor": {"type": ["string", "null"]}}}


def inbox_query(user):
    """The user's own inbox rows: the recipient is the caller, nobody else's ever."""
    return Notification.select().where((Notification.recipient == user.id) & (Notification.channel == INBOX))


def item_json(row):
    payload = row.payload or {}
    return {
        "id": row.id, "event": row.event, "title": str(payload.get("title", "")), "body": str(payload.get("body", "")),
        "url": str(payload.get("url") or ""), "urgent": bool(row.urgent), "object": payload.get("object"),
        "created_at": row.created_at.isoformat(), "read_at": row.read_at.isoformat() if row.read_at else None,
    }


@blueprint.get("/notifications")
@api_endpoint("The caller's inbox", resource="notifications", query=LIST_QUERY, response=LIST_SCHEMA)
def list_notifications():
    raw = {name: request.args[name] for name in LIST_QUERY if name in request.args}
    if "unread" in raw:
        raw["unread"] = {"true": True, "1": True, "false": False, "0": False}.get(raw["unread"].lower(), raw["unread"])
    args = validate(LIST_QUERY, raw)
    query = inbox_query(current_user)
    if args.get("unread"):
        query = query.where(Notification.read_at.is_null())
    return jsonify(keyset_page(query, Notification.id, item_json))


@blueprint.post("/notifications/<int:notification_id>/read")
@api_endpoint("Mark an inbox item read", resource="notifications", action="edit", response=ITEM_SCHEMA)
def mark_read(notification_id):
    if not 0 < notification_id <= MAX_ID:
        raise ApiError(404, _("No such notification."))
    with db.atomic():
        row = inbox_query(current_user).where(Notification.id == notification_id).first()
        if row is None:
            raise ApiError(404, _("No such notification."))
        if row.read_at is None:
            row.read_at = utcnow()
            Notification.update(read_at=row.read_at).where(Notification.id == row.id).execute()
    return jsonify(item_json(row))
