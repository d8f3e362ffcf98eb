"""/api/v1/organizations and /api/v1/users (admin only)."""

from flask import jsonify
from flask_babel import gettext as _
from peewee import IntegrityError

from portal import audit
from portal.accounts.models import ORG_KINDS
from portal.accounts.models import ROLES
from portal.accounts.models import Department
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.passwords import MAX_PASSWORD_LENGTH
from portal.accounts.passwords import MIN_PASSWORD_LENGTH
from portal.accounts.passwords import hash_password
from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.endpoint import json_body
from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.api.pagination import keyset_page
from portal.api.validation import Integer
from portal.api.validation import Text
from portal.api.validation import validate
from portal.db import db

blueprint = api_blueprint("accounts_api", __name__)

ORGANIZATION_BODY = {
    "name": Text(max_length=200, min_length=1, required=True),
    "kind": Text(choices=ORG_KINDS, required=True),
}
USER_BODY = {
    "username": Text(max_length=150, min_length=1, required=True),
    "password": Text(max_length=MAX_PASSWORD_LENGTH, min_length=MIN_PASSWORD_LENGTH, required=True),
    "display_name": Text(max_length=200),
    "role": Text(choices=ROLES, required=True),
    "organization_id": Integer(minimum=1, required=True),
    "department_id": Integer(minimum=1, nullable=True),
    "phone": Text(max_length=50),
    "email": Text(max_length=254),
}
ORGANIZATION_SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}}}
USER_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
        "role": {"type": "string"}, "organization_id": {"type": "integer"},
        "department_id": {"type": ["integer", "null"]}, "active": {"type": "boolean"},
    },
}


def list_schema(item):
    """Describe the API's list shape around *item*."""
    return {"type": "object", "properties": {"items": {"type": "array", "items": item}, "next_cursor": {"type": ["string", "null"]}}}


def organization_json(org):
    return {"id": org.id, "name": org.name, "kind": org.kind}


def user_json(user):
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
        "organization_id": user.organization_id, "department_id": user.department_id, "active": user.active,
    }


@blueprint.get("/organizations")
@api_endpoint("List organizations", resource="organizations", response=list_schema(ORGANIZATION_SCHEMA))
def list_organizations():
    return jsonify(keyset_page(Organization.select(), Organization.id, organization_json))


@blueprint.post("/organizations")
@api_endpoint("Create an organization", resource="organizations", action="create", body=ORGANIZATION_BODY,
              response=ORGANIZATION_SCHEMA, status=201)
def create_organization():
    data = validate(ORGANIZATION_BODY, json_body())
    try:
        with db.atomic():
            org = Organization.create(**data)
            audit.record("create", org, changes=audit.model_changes({}, data))
    except IntegrityError:
        raise ApiError(409, _("An organization with this name exists already."),
                       details=[problem("name", _("already taken"))]) from None
    return jsonify(organization_json(org)), 201


@blueprint.get("/users")
@api_endpoint("List users", resource="users", response=list_schema(USER_SCHEMA))
def list_users():
    return jsonify(keyset_page(User.select(), User.id, user_json))


@blueprint.post("/users")
@api_endpoint("Create a user", resource="users", action="create", body=USER_BODY, response=USER_SCHEMA, status=201)
def create_user():
    data = validate(USER_BODY, json_body())
    details = []
    if Organization.get_or_none(Organization.id == data["organization_id"]) is None:
        details.append(problem("organization_id", _("no such organization")))
    department_id = data.pop("department_id", None)
    if department_id is not None and not Department.select().where(
        (Department.id == department_id) & (Department.organization == data["organization_id"])
    ).exists():
        details.append(problem("department_id", _("no such department in this organization")))
    if details:
        raise ApiError(422, _("The request has invalid fields."), details=details)
    password = data.pop("password")
    try:
        with db.atomic():
            user = User.create(password_hash=hash_password(password), department=department_id,
                               organization=data.pop("organization_id"), **data)
            audit.record("create", user, changes=audit.model_changes({}, user_json(user)))
    except IntegrityError:
        raise ApiError(409, _("This username is taken."), details=[problem("username", _("already taken"))]) from None
    return jsonify(user_json(user)), 201
