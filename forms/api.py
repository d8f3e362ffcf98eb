"""/api/v1/form-types and /api/v1/submissions (API.md): drafts from YAML, publishing, submissions
validated on the server, workflow transitions."""

from flask import jsonify
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from forms import service
from forms.loader import MAX_BYTES
from forms.models import FormSubmission
from forms.models import FormType
from forms.service import ServiceError
from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.endpoint import json_body
from portal.api.errors import ApiError
from portal.api.pagination import keyset_page
from portal.api.validation import Boolean
from portal.api.validation import Check
from portal.api.validation import Integer
from portal.api.validation import Text
from portal.api.validation import validate

blueprint = api_blueprint("forms_api", __name__)

YAML_KINDS = ("application/yaml", "application/json")
# The YAML may be a little bigger inside a JSON string (escapes); the loader's own cap decides.
BODY_LIMIT = MAX_BYTES * 2


class AnyObject(Check):
    """A JSON object of any shape (a submission's data is checked by the form itself)."""

    json_type = "object"

    def clean(self, value):
        if not isinstance(value, dict):
            raise ValueError(_("must be an object"))
        return value


YAML_BODY = {"yaml": Text(max_length=MAX_BYTES, multiline=True, required=True,
                          description="The form definition as YAML text")}
SUBMISSION_BODY = {
    "data": AnyObject(required=True),
    "ticket_id": Integer(minimum=1, maximum=2**31 - 1, nullable=True),
    "contract_id": Integer(minimum=1, maximum=2**31 - 1, nullable=True),
    "draft": Boolean(),
}
TRANSITION_BODY = {"action": Text(max_length=63, min_length=1, required=True),
                   "comment": Text(max_length=5000, multiline=True, nullable=True)}
_NUM_OR_NULL = {"type": ["integer", "null"]}
FORM_TYPE_SCHEMA = {
    "type": "object", "required": ["key", "latest_version", "draft_version"],
    "properties": {"id": {"type": "integer"}, "key": {"type": "string"},
                   "title": {"type": ["string", "null"]}, "category": {"type": ["string", "null"]},
                   "latest_version": _NUM_OR_NULL, "draft_version": _NUM_OR_NULL},
}
VERSION_SCHEMA = {
    "type": "object", "required": ["key", "version", "status", "checksum"],
    "properties": {"key": {"type": "string"}, "version": {"type": "integer"},
                   "status": {"type": "string"}, "checksum": {"type": "string"}},
}
SUBMISSION_SCHEMA = {
    "type": "object",
    "required": ["id", "number", "form_key", "form_version", "state", "data", "computed"],
    "properties": {"id": {"type": "integer"}, "number": {"type": "string"},
                   "form_key": {"type": "string"}, "form_version": {"type": "integer"},
                   "state": {"type": "string"}, "data": {"type": "object"},
                   "computed": {"type": "object"}},
}


def _raise(error):
    raise ApiError(error.status, service.text(error.message, service.locale()), code=error.code,
                   details=service.details(error.problems))


def _form_type_or_404(key):
    form_type = FormType.get_or_none(FormType.key == key) if len(key) <= 63 else None
    if form_type is None:
        raise ApiError(404, _("No such form type."))
    return form_type


def _form_type_json(form_type):
    published = service.latest_published(form_type)
    draft = service.draft_of(form_type)
    shown = published or draft
    compiled = shown.compiled if shown is not None else {}
    return {"id": form_type.id, "key": form_type.key,
            "title": service.form_title(compiled) if compiled else None,
            "category": compiled.get("category"),
            "latest_version": published.version if published else None,
            "draft_version": draft.version if draft else None}


@blueprint.get("/form-types")
@api_endpoint("List form types", resource="form_definitions", action="view",
              response={"type": "object"})
def list_form_types():
    return jsonify(keyset_page(FormType.select(), FormType.id, _form_type_json, descending=False))


@blueprint.post("/form-types")
@api_endpoint("Create a draft form type version from YAML", resource="form_types", action="create",
              body=YAML_BODY, body_kinds=YAML_KINDS, response=VERSION_SCHEMA, status=201)
def create_form_type():
    body = json_body(max_bytes=BODY_LIMIT, kinds=YAML_KINDS)
    if isinstance(body, (bytes, bytearray)):
        source = bytes(body)
    else:
        source = validate(YAML_BODY, body)["yaml"]
    try:
        draft = service.save_draft(source, current_user._get_current_object())
    except ServiceError as error:
        _raise(error)
    out = service.version_json(draft, compiled=False)
    compatible, breaking, uncovered = service.change_report(draft.form_type, draft.compiled)
    out.update(id=draft.id, compatible=compatible,
               breaking_changes=[{"path": c["path"], "kind": c["kind"],
                                  "message": service.text(c["message"], service.locale())}
                                 for c in breaking],
               needs_migration=[c["path"] for c in uncovered])
    return jsonify(out), 201


@blueprint.get("/form-types/<key>")
@api_endpoint("The latest published version of a form type, compiled",
              resource="form_definitions", action="view", response={"type": "object"})
def get_form_type(key):
    form_type = _form_type_or_404(key)
    published = service.latest_published(form_type)
    if published is None:
        raise ApiError(404, _("This form type has no published version yet."))
    compiled = published.compiled
    return jsonify({**compiled, "status": published.status, "checksum": published.checksum,
                    "published_at": published.published_at.isoformat()})


@blueprint.post("/form-types/<key>/publish")
@api_endpoint("Publish the draft as the next version", resource="form_types", action="edit",
              response=VERSION_SCHEMA)
def publish_form_type(key):
    form_type = _form_type_or_404(key)
    try:
        version = service.publish(form_type, current_user._get_current_object())
    except ServiceError as error:
        _raise(error)
    return jsonify(service.version_json(version, compiled=False))


@blueprint.post("/form-types/<key>/submissions")
@api_endpoint("Submit a form (validated on the server)", resource="submissions", action="create",
              body=SUBMISSION_BODY, response=SUBMISSION_SCHEMA, status=201)
def create_submission(key):
    body = json_body()
    form_type = _form_type_or_404(key)
    values = validate(SUBMISSION_BODY, body)
    try:
        submission = service.create_submission(
            form_type, values["data"], current_user._get_current_object(),
            contract_id=values.get("contract_id"), ticket_id=values.get("ticket_id"),
            draft=bool(values.get("draft")))
    except ServiceError as error:
        _raise(error)
    return jsonify(service.submission_json(submission)), 201


def _submission_or_404(submission_id):
    found = service.visible_submission(submission_id, current_user._get_current_object())
    if found is None:
        raise ApiError(404, _("No such submission."))
    return found


@blueprint.get("/submissions/<int:submission_id>")
@api_endpoint("One submission", resource="submissions", action="view", response=SUBMISSION_SCHEMA)
def get_submission(submission_id):
    return jsonify(service.submission_json(_submission_or_404(submission_id)))


@blueprint.post("/submissions/<int:submission_id>/transitions")
@api_endpoint("Perform a workflow action on a submission", resource="submissions",
              action="transition", body=TRANSITION_BODY, response=SUBMISSION_SCHEMA)
def transition_submission(submission_id):
    body = json_body()
    submission = _submission_or_404(submission_id)
    values = validate(TRANSITION_BODY, body)
    try:
        submission = service.transition(submission, values["action"], values.get("comment"),
                                        current_user._get_current_object())
    except ServiceError as error:
        _raise(error)
    return jsonify(service.submission_json(FormSubmission.get_by_id(submission.id)))
