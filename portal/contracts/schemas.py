"""JSON shapes of contracts (serialisers and the OpenAPI schemas describing them)."""

from portal.contracts.models import CoveredSystem
from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota
from portal.contracts.service import sla_targets

_STR = {"type": "string"}
_NUM = {"type": "number"}
_INT = {"type": "integer"}

CONTRACT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": _INT, "number": _STR, "title": _STR, "hospital_id": _INT, "vendor_id": _INT,
        "start_date": _STR, "end_date": _STR, "amount": _STR, "tax_rate": _STR,
        "systems": {"type": "array", "items": {"type": "object", "properties": {
            "id": _INT, "category": _STR, "name": _STR, "class": _STR, "unit": _STR, "quantity": _INT}}},
        "sla": {"type": "object"},
        "quotas": {"type": "array", "items": {"type": "object"}},
    },
}
QUOTAS_SCHEMA = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
        "kind": _STR, "period_start": _STR, "period_end": _STR, "limit": _NUM, "used": _NUM,
        "remaining": _NUM, "unit": _STR}}}},
}
UPTIME_SCHEMA = {
    "type": "object",
    "properties": {
        "systems": {"type": "array", "items": {"type": "object", "properties": {
            "system_id": _INT, "name": _STR, "downtime_minutes": _NUM, "uptime_percent": {"type": ["number", "null"]}}}},
        "uptime_percent": {"type": ["number", "null"]},
    },
}


def list_schema(item):
    """Describe the API's list shape around *item*."""
    return {"type": "object", "properties": {"items": {"type": "array", "items": item},
                                             "next_cursor": {"type": ["string", "null"]}}}


def money(value):
    """Money and rates as exact decimal strings ("1179000.00")."""
    return None if value is None else f"{value:.2f}" if value == round(value, 2) else str(value)


def system_json(system):
    return {"id": system.id, "category": system.category, "name": system.name, "class": system.system_class,
            "unit": system.unit, "quantity": system.quantity}


def quota_json(quota):
    return {"id": quota.id, "kind": quota.kind, "limit": float(quota.limit), "unit": quota.unit,
            "period": quota.period, "per_item_max": None if quota.per_item_max is None else float(quota.per_item_max)}


def contract_json(contract, full=True):
    """Serialise a contract; *full* adds systems, SLA, quotas and payments."""
    body = {
        "id": contract.id, "number": contract.number, "title": contract.title,
        "hospital_id": contract.hospital_id, "vendor_id": contract.vendor_id,
        "start_date": contract.start_date.isoformat(), "end_date": contract.end_date.isoformat(),
        "amount": money(contract.amount), "tax_rate": money(contract.tax_rate),
        "penalty_percent_per_day": money(contract.penalty_percent_per_day),
        "penalty_cap_percent": money(contract.penalty_cap_percent),
        "uptime_target_percent": money(contract.uptime_target_percent),
        "staffing": contract.staffing, "report_obligations": contract.report_obligations,
        "inspection_obligations": contract.inspection_obligations, "notes": contract.notes,
        "created_at": contract.created_at.isoformat() if contract.created_at else None,
    }
    if not full:
        return body
    body["systems"] = [system_json(s) for s in CoveredSystem.select().where(CoveredSystem.contract == contract)
                       .order_by(CoveredSystem.id)]
    body["sla"] = {priority: {kind: {"minutes": target.minutes, "clock": target.clock}
                              for kind, target in kinds.items()}
                   for priority, kinds in sla_targets(contract).items()}
    body["quotas"] = [quota_json(q) for q in Quota.select().where(Quota.contract == contract).order_by(Quota.id)]
    body["payments"] = [
        {"id": p.id, "due_date": p.due_date.isoformat(), "amount": money(p.amount),
         "paid_date": p.paid_date.isoformat() if p.paid_date else None, "note": p.note}
        for p in PaymentInstallment.select().where(PaymentInstallment.contract == contract)
        .order_by(PaymentInstallment.due_date)
    ]
    return body
