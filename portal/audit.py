"""The one place that writes AuditLog rows: who, organisation, where from, what, before/after."""

import json

from flask import has_request_context
from flask import request
from flask_login import current_user
from peewee import CharField
from peewee import ForeignKeyField
from peewee import TextField

from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.db import BaseModel
from portal.db import UTCDateTimeField


class AuditLog(BaseModel):
    at = UTCDateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    username = CharField(max_length=150, default="")
    organization = ForeignKeyField(Organization, null=True, backref="+", on_delete="SET NULL")
    ip = CharField(max_length=64, default="")
    action = CharField(max_length=50, index=True)
    object_type = CharField(max_length=100, default="")
    object_id = CharField(max_length=100, default="")
    summary = TextField(default="")
    changes = TextField(default="")  # JSON {"field": [before, after]}


def _actor():
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user._get_current_object()
    return None


def record(action, obj=None, summary="", changes=None, user=None, object_type=None, object_id=None):
    """Write one audit row; call it inside the transaction of the change it describes."""
    actor = user if user is not None else _actor()
    return AuditLog.create(
        user=actor.id if actor else None,
        username=actor.username if actor else "",
        organization=actor.organization_id if actor else None,
        ip=(request.remote_addr or "") if has_request_context() else "",
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "id", "") or ""),
        summary=str(summary)[:2000],
        changes=json.dumps(changes, ensure_ascii=False, default=str) if changes else "",
    )


def model_changes(before, after):
    """Return {field: [before, after]} for the fields whose values differ."""
    keys = set(before) | set(after)
    return {key: [before.get(key), after.get(key)] for key in sorted(keys) if before.get(key) != after.get(key)}


def snapshot(obj, exclude=("password_hash",)):
    """Return a plain dict of a model instance's stored fields, without secrets."""
    data = {}
    for name, field in obj._meta.fields.items():
        if name in exclude:
            continue
        value = getattr(obj, field.name + "_id", None) if hasattr(field, "rel_model") else getattr(obj, name)
        data[name] = value
    return data
