"""JSON responses written by orjson (portal/json_provider.py): what a reader gets must be what
Flask's own encoder gave, for hostile text and every type Flask's encoder knows."""

import dataclasses
import decimal
import json
import uuid
from datetime import date
from datetime import datetime
from datetime import timezone

from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from tests.conftest import blns_strings


@dataclasses.dataclass
class Point:
    x: int
    label: str


def _both(app, value):
    """(ours, Flask's) response bodies for *value*."""
    with app.test_request_context("/"):
        ours = app.json.response(value).get_data()
        theirs = DefaultJSONProvider(app).response(value).get_data()
    return ours, theirs


def test_every_naughty_string_reads_back_as_flasks_encoding(app):
    document = {"items": [{"title": text, "n": index} for index, text in enumerate(blns_strings())]}
    ours, theirs = _both(app, document)
    assert json.loads(ours) == json.loads(theirs) == document
    assert ours.endswith(b"}\n") and theirs.endswith(b"}\n")


def test_types_flask_knows_come_out_as_flask_writes_them(app):
    value = {"when": datetime(2026, 3, 2, 4, 5, 6, tzinfo=timezone.utc), "day": date(2026, 3, 2),
             "money": decimal.Decimal("12.50"), "id": uuid.UUID(int=7), "point": Point(1, "甲"),
             "html": Markup("<b>x</b>"), "nested": [None, True, 1.5, {"b": 2, "a": 1}]}
    ours, theirs = _both(app, value)
    assert json.loads(ours) == json.loads(theirs)
    assert json.loads(ours)["when"] == "Mon, 02 Mar 2026 04:05:06 GMT"  # an HTTP date, as before


def test_keys_are_sorted_and_the_body_compact(app):
    ours, theirs = _both(app, {"b": 1, "a": {"d": 2, "c": 3}})
    assert ours == theirs == b'{"a":{"c":3,"d":2},"b":1}\n'


def test_what_orjson_refuses_is_written_by_flasks_encoder(app):
    value = {"big": 2**70, "negative": -(2**65)}
    ours, theirs = _both(app, value)
    assert ours == theirs and json.loads(ours) == value


def test_a_developer_gets_flasks_indented_json(app):
    app.debug = True
    try:
        ours, theirs = _both(app, {"a": [1, 2]})
    finally:
        app.debug = False
    assert ours == theirs and b"\n  " in ours


def test_api_errors_and_lists_are_still_json(client):
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401 and response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "unauthorized"
