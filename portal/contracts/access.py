"""Organisation scoping of contracts and their children, shared by the API and admin pages."""

from flask import request
from flask_login import current_user

from portal import audit
from portal.contracts.models import Contract
from portal.db import db
from portal.permissions import scope


def scoped_contracts(user=None):
    """Contracts the user may see: their hospital's, their vendor's, or all for admins."""
    return scope(Contract.select(), user or current_user, hospital=Contract.hospital, vendor=Contract.vendor)


def visible_contract(contract_id, user=None):
    """Return the contract if the user may see it; else None (and audit an attempt on another
    organisation's contract)."""
    try:
        contract_id = int(contract_id)
    except (TypeError, ValueError):
        return None
    if not -2**63 < contract_id < 2**63:
        return None
    found = scoped_contracts(user).where(Contract.id == contract_id).first()
    if found is None and Contract.select().where(Contract.id == contract_id).exists():
        with db.atomic():
            audit.record("access_denied", object_type="Contract", object_id=contract_id,
                         summary=f"{request.method} {request.path}")
    return found
