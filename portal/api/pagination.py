"""Keyset pagination: ``?limit=`` and an opaque ``?cursor=``; no COUNT(*) over the table."""

import base64
import json

from flask import request
from flask_babel import gettext as _

from portal.api.errors import ApiError
from portal.api.errors import problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def page_args():
    """Return (limit, cursor_values) from the query string, or raise 400."""
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        raise ApiError(400, _("Invalid limit."), details=[problem("limit", _("must be an integer"))]) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, _("Invalid limit."), details=[problem("limit", _("must be between 1 and %(n)d", n=MAX_LIMIT))])
    cursor = request.args.get("cursor")
    return limit, decode_cursor(cursor) if cursor else None


def encode_cursor(values):
    """Make an opaque cursor from the sort key values of the last item."""
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """Read a cursor made by encode_cursor, or raise 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise ApiError(400, _("Invalid cursor."), details=[problem("cursor", _("not a cursor from this API"))]) from None
    if not isinstance(values, list):
        raise ApiError(400, _("Invalid cursor."), details=[problem("cursor", _("not a cursor from this API"))])
    return values


#: Ids are signed 64-bit integers in both databases; a larger number in a forged cursor made
#: SQLite raise OverflowError (a 500) instead of a 400.
ID_RANGE = range(-(2**63), 2**63)


def cursor_id(cursor):
    """The last id a cursor of this API carries, or raise 400."""
    try:
        last_id = int(cursor[0])
    except (TypeError, ValueError, IndexError):
        raise ApiError(400, _("Invalid cursor.")) from None
    if last_id not in ID_RANGE:
        raise ApiError(400, _("Invalid cursor."))
    return last_id


def keyset_page(query, id_field, serialize, descending=True, order_field=None):
    """Return the API list shape for *query* (models or ``.dicts()``) paged by its integer primary key.

    ``order_field`` is a column equal to the key that the database can walk in order more cheaply
    (a full-text index's rowid joined to the key); the cursor is the same number either way.
    """
    order_field = order_field or id_field
    limit, cursor = page_args()
    if cursor:
        last_id = cursor_id(cursor)
        query = query.where(order_field < last_id if descending else order_field > last_id)
    rows = list(query.order_by(order_field.desc() if descending else order_field.asc()).limit(limit + 1))
    return keyset_result(rows, limit, id_field.name, serialize)


def keyset_result(rows, limit, id_name, serialize):
    """The API list shape of *rows*, read with ``limit + 1`` so that the extra row tells of a next page."""
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    next_cursor = None if last is None else encode_cursor(
        [last[id_name] if isinstance(last, dict) else getattr(last, id_name)])
    return {"items": [serialize(row) for row in rows], "next_cursor": next_cursor}
