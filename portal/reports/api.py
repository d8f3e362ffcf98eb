"""/api/v1/contracts/{id}/scorecard (API.md) and /api/v1/contracts/{id}/reports/monthly."""

from flask import jsonify
from flask import request
from flask_babel import gettext as _

from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.api.validation import Integer
from portal.contracts.access import visible_contract
from portal.reports import monthly
from portal.reports import periods
from portal.reports.scorecard import scorecard

blueprint = api_blueprint("reports_api", __name__)

_NUM = {"type": "number"}
_INT = {"type": "integer"}
_DEDUCTIONS = {"type": "array", "items": {"type": "object", "properties": {
    "ticket_id": {"type": ["integer", "null"]}, "reason": {"type": "string"}, "points": _NUM}}}
_SECTION = {"type": "object", "properties": {"max": _NUM, "score": _NUM, "deductions": _DEDUCTIONS}}
SCORECARD_SCHEMA = {
    "type": "object",
    "required": ["year", "total", "passed", "payment_ratio", "sections", "bonus"],
    "properties": {
        "year": _INT, "total": _NUM, "passed": {"type": "boolean"}, "payment_ratio": _NUM,
        "sections": {"type": "object", "properties": {
            "response": {"type": "object", "properties": {
                "max": _NUM, "score": _NUM, "deductions": _DEDUCTIONS,
                "by_class": {"type": "object", "properties": {name: _SECTION for name in ("HIS", "CIS", "other")}}}},
            "modifications": _SECTION,
            "satisfaction": {"type": "object", "properties": {"max": _NUM, "score": _NUM}},
            "resolution_rate": {"type": "object", "properties": {
                "max": _NUM, "score": _NUM, "rate": {"type": ["number", "null"]}}},
        }},
        "bonus": {"type": "object", "properties": {"praise_letters": _INT, "points": _NUM}},
    },
}
MONTHLY_SCHEMA = {"type": "object", "properties": {
    "contract_id": _INT, "year": _INT, "month": _INT, "summary": {"type": "object"},
    "tickets": {"type": "array", "items": {"type": "object"}}}}
YEAR = Integer(minimum=periods.MIN_YEAR, maximum=periods.MAX_YEAR, description="calendar year; default this year")
MONTH = Integer(minimum=1, maximum=12, description="month; default this month")


def _contract(contract_id):
    contract = visible_contract(contract_id)
    if contract is None:
        raise ApiError(404, _("No such contract."))
    return contract


def _param(reader):
    try:
        return reader(request.args)
    except periods.BadParameter as error:
        raise ApiError(400, _("The query has invalid parameters."),
                       details=[problem(error.field, error.message)]) from None


@blueprint.get("/contracts/<int:contract_id>/scorecard")
@api_endpoint("The annual quality scorecard (seed 002) of a contract", resource="reports",
              query={"year": YEAR}, response=SCORECARD_SCHEMA)
def contract_scorecard(contract_id):
    contract = _contract(contract_id)
    year = _param(periods.parse_year)
    return jsonify(scorecard(contract, year))


def _iso(value):
    return value.isoformat() if value is not None else None


@blueprint.get("/contracts/<int:contract_id>/reports/monthly")
@api_endpoint("The monthly service report of a contract: summary, groupings, tickets", resource="reports",
              query={"year": YEAR, "month": MONTH}, response=MONTHLY_SCHEMA)
def contract_monthly(contract_id):
    contract = _contract(contract_id)
    period = _param(periods.parse_month)
    data = monthly.report(contract, period)
    return jsonify({
        "contract_id": contract.id, "year": period.first.year, "month": period.first.month,
        "summary": data["summary"], "by_category": data["by_category"], "by_priority": data["by_priority"],
        "by_system": data["by_system"], "uptime_percent": data["uptime"]["uptime_percent"],
        "breaches": [{"ticket_id": t["id"], "number": t["number"], "late_response": bool(t["late_response"]),
                      "late_resolve": bool(t["late_resolve"]), "root_cause": t["root_cause"]} for t in data["breaches"]],
        "inspections": [{"submission_id": s.id, "number": s.number} for s in data["inspections"]],
        "tickets": [{"id": t["id"], "number": t["number"], "title": t["title"], "category": t["category"],
                     "priority": t["priority"], "status": t["status"], "reported_at": _iso(t["reported_at"]),
                     "resolved_at": _iso(t["resolved_at"]), "satisfaction": t["satisfaction"]}
                    for t in data["tickets"]],
    })
