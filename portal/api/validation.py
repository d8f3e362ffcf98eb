"""Declarative checks for JSON request bodies: every problem reported at once, as API.md asks.

A spec is a dict of field name -> Check. ``validate(spec, body)`` returns the cleaned values or
raises ApiError(422) listing every problem. Each check also describes itself as JSON Schema,
so the OpenAPI document is generated from the same objects that check the input.
"""

from datetime import date
from datetime import datetime
from decimal import Decimal
from decimal import InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.text import text_problem

_MISSING = object()


class Check:
    """Base: required-ness and nullability; subclasses convert and describe one value."""

    json_type = "string"

    def __init__(self, required=False, nullable=False, description=""):
        self.required = required
        self.nullable = nullable
        self.description = description

    def clean(self, value):
        """Return the cleaned value or raise ValueError with a user-facing message."""
        return value

    def schema(self):
        schema = {"type": self.json_type}
        if self.nullable:
            schema = {"type": [self.json_type, "null"]}
        if self.description:
            schema["description"] = self.description
        return schema


class Text(Check):
    def __init__(self, max_length=200, min_length=0, multiline=False, choices=None, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.min_length = min_length
        self.multiline = multiline
        self.choices = tuple(choices) if choices else None

    def clean(self, value):
        message = text_problem(value, self.max_length, self.multiline)
        if message:
            raise ValueError(message)
        if self.min_length and not value.strip():
            raise ValueError(_("must not be empty"))
        if self.choices is not None and value not in self.choices:
            raise ValueError(_("must be one of: %(choices)s", choices=", ".join(self.choices)))
        return value

    def schema(self):
        schema = super().schema()
        schema["maxLength"] = self.max_length
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.choices is not None:
            schema["enum"] = list(self.choices) + ([None] if self.nullable else [])
        return schema


class Integer(Check):
    json_type = "integer"

    def __init__(self, minimum=None, maximum=None, **kwargs):
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def clean(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(_("must be an integer"))
        if self.minimum is not None and value < self.minimum:
            raise ValueError(_("must be at least %(n)s", n=self.minimum))
        if self.maximum is not None and value > self.maximum:
            raise ValueError(_("must be at most %(n)s", n=self.maximum))
        return value

    def schema(self):
        schema = super().schema()
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


class Number(Integer):
    json_type = "number"

    def clean(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(_("must be a number"))
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(_("must be a number")) from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 13:
            raise ValueError(_("must be a finite number below 10^13"))
        return self._bounds(number)

    def _bounds(self, number):
        if self.minimum is not None and number < self.minimum:
            raise ValueError(_("must be at least %(n)s", n=self.minimum))
        if self.maximum is not None and number > self.maximum:
            raise ValueError(_("must be at most %(n)s", n=self.maximum))
        return number

    def schema(self):
        schema = super().schema()
        schema["type"] = ["number", "string"] if not self.nullable else ["number", "string", "null"]
        return schema


class Boolean(Check):
    json_type = "boolean"

    def clean(self, value):
        if not isinstance(value, bool):
            raise ValueError(_("must be true or false"))
        return value


class Date(Check):
    def clean(self, value):
        if not isinstance(value, str):
            raise ValueError(_("must be a date like 2026-09-30"))
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(_("must be a date like 2026-09-30")) from None

    def schema(self):
        schema = super().schema()
        schema["format"] = "date"
        return schema


class DateTime(Check):
    """An ISO 8601 time; a naive time is read in the installation's time zone (API.md)."""

    def clean(self, value):
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(_("must be a time like 2026-09-30T10:00:00+08:00"))
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(_("must be a time like 2026-09-30T10:00:00+08:00")) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
        return parsed

    def schema(self):
        schema = super().schema()
        schema["format"] = "date-time"
        return schema


class ListOf(Check):
    json_type = "array"

    def __init__(self, item, max_items=100, **kwargs):
        super().__init__(**kwargs)
        self.item = item
        self.max_items = max_items

    def clean(self, value):
        if not isinstance(value, list):
            raise ValueError(_("must be a list"))
        if len(value) > self.max_items:
            raise ValueError(_("must have at most %(n)d items", n=self.max_items))
        return value  # items are checked by validate() so their paths can be named

    def schema(self):
        schema = super().schema()
        schema["items"] = self.item.schema() if isinstance(self.item, Check) else object_schema(self.item)
        schema["maxItems"] = self.max_items
        return schema


class Object(Check):
    json_type = "object"

    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec

    def clean(self, value):
        if not isinstance(value, dict):
            raise ValueError(_("must be an object"))
        return value

    def schema(self):
        return object_schema(self.spec)


def object_schema(spec):
    """Describe a spec as a JSON Schema object."""
    return {
        "type": "object",
        "properties": {name: check.schema() for name, check in spec.items()},
        "required": [name for name, check in spec.items() if check.required],
    }


def _clean_value(check, value, path, details):
    if value is None:
        if not check.nullable:
            details.append(problem(path, _("must not be null")))
        return None
    try:
        cleaned = check.clean(value)
    except ValueError as error:
        details.append(problem(path, error))
        return None
    if isinstance(check, ListOf):
        return [_clean_value(check.item, item, f"{path}[{index}]", details) if isinstance(check.item, Check)
                else _clean_object(check.item, item, f"{path}[{index}]", details, partial=False)
                for index, item in enumerate(cleaned)]
    if isinstance(check, Object):
        return _clean_object(check.spec, cleaned, path, details, partial=False)
    return cleaned


def _clean_object(spec, body, prefix, details, partial):
    if not isinstance(body, dict):
        details.append(problem(prefix or "body", _("must be a JSON object")))
        return {}
    cleaned = {}
    for name in body:
        if name not in spec:
            details.append(problem(_join(prefix, name), _("unknown field")))
    for name, check in spec.items():
        path = _join(prefix, name)
        value = body.get(name, _MISSING)
        if value is _MISSING:
            if check.required and not partial:
                details.append(problem(path, _("this field is required")))
            continue
        cleaned[name] = _clean_value(check, value, path, details)
    return cleaned


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def validate(spec, body, partial=False):
    """Return the cleaned body or raise ApiError(422) with every problem found."""
    details = []
    cleaned = _clean_object(spec, body, "", details, partial)
    if details:
        raise ApiError(422, _("The request has invalid fields."), details=details)
    return cleaned
