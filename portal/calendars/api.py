"""/api/v1/calendar/due and /api/v1/calendar/days on the installation's calendar."""

from datetime import date
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask import jsonify
from flask import request
from flask_babel import gettext as _

from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.api.validation import Integer
from portal.api.validation import Text
from portal.calendar import DayKind
from portal.calendars.models import CalendarDay
from portal.calendars.service import current_calendar
from portal.calendars.service import settings
from portal.calendars.service import zone
from portal.sla import CLOCKS
from portal.sla import MAX_TARGET_MINUTES

blueprint = api_blueprint("calendars_api", __name__)

MIN_YEAR, MAX_YEAR = 1970, 2199

DUE_QUERY = {
    "start": Text(max_length=40, required=True, description="ISO 8601 time; naive = installation time zone"),
    "minutes": Integer(minimum=0, maximum=MAX_TARGET_MINUTES, required=True),
    "clock": Text(choices=CLOCKS, required=False, description="business (default) or 24x7"),
}
DAYS_QUERY = {"year": Integer(minimum=MIN_YEAR, maximum=MAX_YEAR, required=True)}
DUE_SCHEMA = {
    "type": "object",
    "required": ["due"],
    "properties": {"due": {"type": "string", "format": "date-time"}, "start": {"type": "string"},
                   "minutes": {"type": "integer"}, "clock": {"type": "string"}},
}
DAY_SCHEMA = {
    "type": "object",
    "properties": {"date": {"type": "string"}, "kind": {"type": "string"}, "working": {"type": "boolean"},
                   "name": {"type": "string"}, "source": {"type": ["string", "null"]}, "note": {"type": "string"}},
}
DAYS_SCHEMA = {
    "type": "object",
    "required": ["year", "covered", "days"],
    "properties": {"year": {"type": "integer"}, "covered": {"type": "boolean"}, "timezone": {"type": "string"},
                   "work_start": {"type": "string"}, "work_end": {"type": "string"},
                   "minutes_per_day": {"type": "integer"}, "days": {"type": "array", "items": DAY_SCHEMA}},
}


def _bad_query(details):
    raise ApiError(400, _("The query has invalid parameters."), details=details)


def _int_arg(name, minimum, maximum, details):
    raw = request.args.get(name)
    if raw is None or raw == "":
        details.append(problem(name, _("this parameter is required")))
        return None
    if len(raw) > 20 or not raw.lstrip("-").isdigit():
        details.append(problem(name, _("must be an integer")))
        return None
    value = int(raw)
    if not minimum <= value <= maximum:
        details.append(problem(name, _("must be between %(low)d and %(high)d", low=minimum, high=maximum)))
        return None
    return value


def _start_arg(details):
    raw = request.args.get("start")
    if not raw:
        details.append(problem("start", _("this parameter is required")))
        return None
    try:
        if len(raw) > 40:
            raise ValueError
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone(current_app.config["TIMEZONE"]))
        parsed.astimezone(current_calendar().tz)  # may overflow near year 1 or 9999
    except (ValueError, OverflowError):
        details.append(problem("start", _("must be a time like 2026-09-30T10:00:00+08:00")))
        return None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        details.append(problem("start", _("must be between the years %(low)d and %(high)d", low=MIN_YEAR, high=MAX_YEAR)))
        return None
    return parsed


@blueprint.get("/calendar/due")
@api_endpoint("Deadline after N minutes on the installation's calendar", resource="calendar",
              query=DUE_QUERY, response=DUE_SCHEMA)
def due():
    """Return the instant at which *minutes* have elapsed since *start* on *clock*."""
    details = []
    start = _start_arg(details)
    minutes = _int_arg("minutes", 0, MAX_TARGET_MINUTES, details)
    clock = request.args.get("clock", "business")
    if clock not in CLOCKS:
        details.append(problem("clock", _("must be one of: %(choices)s", choices=", ".join(CLOCKS))))
    if details:
        _bad_query(details)
    calendar = current_calendar()
    try:
        if clock == "business":
            result = calendar.add_business_minutes(start, minutes)
        else:
            result = (start + timedelta(minutes=minutes)).astimezone(calendar.tz)
    except (ValueError, OverflowError) as error:
        raise ApiError(422, _("No deadline can be computed: %(why)s", why=str(error))) from None
    return jsonify({"due": result.isoformat(), "start": start.isoformat(), "minutes": minutes, "clock": clock})


@blueprint.get("/calendar/days")
@api_endpoint("The day table of one year", resource="calendar", query=DAYS_QUERY, response=DAYS_SCHEMA)
def days():
    """Return every day of the year with its kind, and whether official data covers the year."""
    details = []
    year = _int_arg("year", MIN_YEAR, MAX_YEAR, details)
    if details:
        _bad_query(details)
    calendar = current_calendar()
    config = settings()
    stored = {row.day: row for row in CalendarDay.select().where(
        CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))}
    items = []
    day = date(year, 1, 1)
    while day.year == year:
        kind = calendar.day_kind(day)
        row = stored.get(day)
        items.append({
            "date": day.isoformat(), "kind": kind.value, "working": DayKind(kind).is_working,
            "name": row.name if row else "", "source": row.source if row else None, "note": row.note if row else "",
        })
        day += timedelta(days=1)
    return jsonify({
        "year": year, "covered": calendar.covered(year), "timezone": config.timezone,
        "work_start": config.work_start, "work_end": config.work_end,
        "minutes_per_day": calendar.minutes_per_day, "days": items,
    })
