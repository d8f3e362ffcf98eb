"""/api/v1/contracts: list, create, read, patch, quotas and uptime (API.md)."""

from flask import jsonify
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from peewee import IntegrityError

from portal import audit
from portal.accounts.models import Organization
from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.endpoint import json_body
from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.api.pagination import keyset_page
from portal.api.validation import Date
from portal.api.validation import Integer
from portal.api.validation import ListOf
from portal.api.validation import Number
from portal.api.validation import Object
from portal.api.validation import Text
from portal.api.validation import validate
from portal.contracts import service
from portal.contracts.access import scoped_contracts
from portal.contracts.access import visible_contract
from portal.contracts.models import PRIORITIES
from portal.contracts.models import QUOTA_PERIODS
from portal.contracts.models import QUOTA_UNITS
from portal.contracts.models import SLA_KINDS
from portal.contracts.models import SYSTEM_CLASSES
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Quota
from portal.contracts.models import SlaTarget
from portal.contracts.schemas import CONTRACT_SCHEMA
from portal.contracts.schemas import QUOTAS_SCHEMA
from portal.contracts.schemas import UPTIME_SCHEMA
from portal.contracts.schemas import contract_json
from portal.contracts.schemas import list_schema
from portal.db import db
from portal.sla import CLOCKS
from portal.sla import MAX_TARGET_MINUTES

blueprint = api_blueprint("contracts_api", __name__)

TARGET = {"minutes": Integer(minimum=1, maximum=MAX_TARGET_MINUTES, required=True),
          "clock": Text(choices=CLOCKS, required=True)}
SLA = {priority: Object({kind: Object(TARGET) for kind in SLA_KINDS}) for priority in PRIORITIES}
SYSTEM = {
    "category": Text(max_length=100),
    "name": Text(max_length=200, min_length=1, required=True),
    "class": Text(choices=SYSTEM_CLASSES, required=True),
    "unit": Text(max_length=20),
    "quantity": Integer(minimum=1, maximum=1_000_000),
}
QUOTA = {
    "kind": Text(max_length=50, min_length=1, required=True),
    "limit": Number(minimum=0, maximum=1_000_000, required=True),
    "unit": Text(choices=QUOTA_UNITS, required=True),
    "period": Text(choices=QUOTA_PERIODS, required=True),
    "per_item_max": Number(minimum=0, maximum=1_000_000, nullable=True),
}
FIELDS = {
    "number": Text(max_length=100, min_length=1, required=True),
    "title": Text(max_length=300, min_length=1, required=True),
    "hospital_id": Integer(minimum=1, maximum=2**31 - 1, required=True),
    "vendor_id": Integer(minimum=1, maximum=2**31 - 1, required=True),
    "start_date": Date(required=True),
    "end_date": Date(required=True),
    "amount": Number(minimum=0, required=True),
    "tax_rate": Number(minimum=0, maximum=100),
    "penalty_percent_per_day": Number(minimum=0, maximum=100),
    "penalty_cap_percent": Number(minimum=0, maximum=100),
    "uptime_target_percent": Number(minimum=0, maximum=100),
    "staffing": Text(max_length=10_000, multiline=True),
    "report_obligations": Text(max_length=10_000, multiline=True),
    "inspection_obligations": Text(max_length=10_000, multiline=True),
    "notes": Text(max_length=10_000, multiline=True),
}
CREATE_BODY = dict(FIELDS, systems=ListOf(Object(SYSTEM), max_items=500), sla=Object(SLA),
                   quotas=ListOf(Object(QUOTA), max_items=50))
PATCH_BODY = dict(FIELDS, sla=Object(SLA))


def _invalid(details):
    raise ApiError(422, _("The request has invalid fields."), details=details)


def _check_parties(data, details, current=None):
    """Check hospital/vendor ids, the caller's right to name them, and the service period."""
    for field, kind in (("hospital_id", "hospital"), ("vendor_id", "vendor")):
        if field in data and not Organization.select().where(
                (Organization.id == data[field]) & (Organization.kind == kind)).exists():
            details.append(problem(field, _("no such organization of kind %(kind)s", kind=kind)))
    if current_user.role != "admin":
        vendor = data.get("vendor_id", current.vendor_id if current else None)
        if vendor != current_user.organization_id:
            details.append(problem("vendor_id", _("you may only manage contracts of your own organization")))
    start = data.get("start_date", current.start_date if current else None)
    end = data.get("end_date", current.end_date if current else None)
    if start and end and end < start:
        details.append(problem("end_date", _("must not be before start_date")))


def _check_number(number, details, exclude_id=None):
    query = Contract.select().where(Contract.number == number)
    if exclude_id is not None:
        query = query.where(Contract.id != exclude_id)
    if query.exists():
        raise ApiError(409, _("A contract with this number exists already."),
                       details=details + [problem("number", _("already taken"))])


def _save_sla(contract, sla):
    for priority, kinds in (sla or {}).items():
        for kind, target in (kinds or {}).items():
            if target is None:
                continue
            row = SlaTarget.get_or_none((SlaTarget.contract == contract) & (SlaTarget.priority == priority)
                                        & (SlaTarget.kind == kind))
            if row is None:
                SlaTarget.create(contract=contract, priority=priority, kind=kind, **target)
            else:
                row.minutes, row.clock = target["minutes"], target["clock"]
                row.save()


def _row_fields(data):
    fields = {key: value for key, value in data.items() if key in FIELDS}
    for key in ("hospital_id", "vendor_id"):
        if key in fields:
            fields[key.removesuffix("_id")] = fields.pop(key)
    return fields


@blueprint.get("/contracts")
@api_endpoint("List contracts", resource="contracts", response=list_schema(CONTRACT_SCHEMA))
def list_contracts():
    return jsonify(keyset_page(scoped_contracts(), Contract.id, lambda c: contract_json(c, full=False)))


@blueprint.post("/contracts")
@api_endpoint("Create a contract with its systems, SLA and quotas", resource="contracts", action="create",
              body=CREATE_BODY, response=CONTRACT_SCHEMA, status=201)
def create_contract():
    data = validate(CREATE_BODY, json_body())
    details = []
    _check_parties(data, details)
    kinds = set()
    for index, quota in enumerate(data.get("quotas") or []):
        if quota["kind"] in kinds:
            details.append(problem(f"quotas[{index}].kind", _("listed twice")))
        kinds.add(quota["kind"])
    if details:
        _invalid(details)
    _check_number(data["number"], details)
    try:
        with db.atomic():
            contract = Contract.create(**_row_fields(data))
            for system in data.get("systems") or []:
                CoveredSystem.create(contract=contract, category=system.get("category", ""), name=system["name"],
                                     system_class=system["class"], unit=system.get("unit") or "套",
                                     quantity=system.get("quantity", 1))
            _save_sla(contract, data.get("sla"))
            for quota in data.get("quotas") or []:
                Quota.create(contract=contract, **quota)
            body = contract_json(contract)
            audit.record("create", contract, summary=contract.number, changes=audit.model_changes({}, body))
    except IntegrityError:
        raise ApiError(409, _("A contract with this number exists already."),
                       details=[problem("number", _("already taken"))]) from None
    return jsonify(body), 201


def _visible_or_404(contract_id):
    contract = visible_contract(contract_id)
    if contract is None:
        raise ApiError(404, _("No such contract."))
    return contract


@blueprint.get("/contracts/<int:contract_id>")
@api_endpoint("One contract", resource="contracts", response=CONTRACT_SCHEMA)
def get_contract(contract_id):
    return jsonify(contract_json(_visible_or_404(contract_id)))


@blueprint.patch("/contracts/<int:contract_id>")
@api_endpoint("Change a contract (fields given; SLA targets given are set)", resource="contracts",
              action="edit", body=PATCH_BODY, response=CONTRACT_SCHEMA)
def patch_contract(contract_id):
    contract = _visible_or_404(contract_id)
    data = validate(PATCH_BODY, json_body(), partial=True)
    details = []
    _check_parties(data, details, current=contract)
    if details:
        _invalid(details)
    if "number" in data:
        _check_number(data["number"], details, exclude_id=contract.id)
    before = contract_json(contract)
    try:
        with db.atomic():
            for key, value in _row_fields(data).items():
                setattr(contract, key, value)
            contract.save()
            _save_sla(contract, data.get("sla"))
            after = contract_json(Contract.get_by_id(contract.id))
            audit.record("update", contract, summary=contract.number, changes=audit.model_changes(before, after))
    except IntegrityError:
        raise ApiError(409, _("A contract with this number exists already."),
                       details=[problem("number", _("already taken"))]) from None
    return jsonify(after)


@blueprint.get("/contracts/<int:contract_id>/quotas")
@api_endpoint("Quota status of the current period", resource="contracts", response=QUOTAS_SCHEMA)
def contract_quotas(contract_id):
    contract = _visible_or_404(contract_id)
    return jsonify({"items": service.quota_status(contract)})


def _int_query(name, low, high, required):
    raw = request.args.get(name)
    if raw in (None, ""):
        if required:
            raise ApiError(400, _("The query has invalid parameters."),
                           details=[problem(name, _("this parameter is required"))])
        return None
    if len(raw) > 6 or not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, _("The query has invalid parameters."),
                       details=[problem(name, _("must be between %(low)d and %(high)d", low=low, high=high))])
    return int(raw)


@blueprint.get("/contracts/<int:contract_id>/uptime")
@api_endpoint("Uptime per covered system for a year or a month", resource="contracts",
              query={"year": Integer(minimum=1970, maximum=2199, required=True),
                     "month": Integer(minimum=1, maximum=12)}, response=UPTIME_SCHEMA)
def contract_uptime(contract_id):
    contract = _visible_or_404(contract_id)
    year = _int_query("year", 1970, 2199, required=True)
    month = _int_query("month", 1, 12, required=False)
    return jsonify(service.uptime(contract, year, month))
