"""The ``api_endpoint`` decorator: authentication, role rules, CSRF, body limits, and OpenAPI metadata."""

from dataclasses import dataclass
from dataclasses import field
from functools import wraps

from flask import current_app
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import validate_csrf

from portal.api.errors import ApiError
from portal.auth import via_token
from portal.permissions import allowed

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class EndpointSpec:
    """What the OpenAPI document says about one endpoint."""

    summary: str
    resource: str | None
    action: str | None
    body: dict | None = None
    body_kinds: tuple = ("application/json",)
    query: dict = field(default_factory=dict)
    response: dict | None = None
    status: int = 200
    public: bool = False


def api_endpoint(summary, resource=None, action="view", body=None, query=None, response=None,
                 status=200, public=False, body_kinds=("application/json",)):
    """Wrap an API view; ``resource``/``action`` look up the role table, ``body`` is a validation spec."""
    spec = EndpointSpec(summary, resource, action, body, tuple(body_kinds), query or {}, response, status, public)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not public:
                _check_access(resource, action)
            return view(*args, **kwargs)

        wrapped.api_spec = spec
        return wrapped

    return decorator


def _check_access(resource, action):
    if not current_user.is_authenticated:
        raise ApiError(401, _("Authentication required: send a bearer token or log in."))
    if request.method in WRITE_METHODS and not via_token():
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except (CSRFError, Exception) as error:  # flask-wtf raises ValidationError, not CSRFError
            raise ApiError(403, _("Missing or invalid CSRF token: %(why)s", why=str(error))) from None
    if resource is not None:
        rules = current_app.extensions["weibao"].registry("resource").get(resource)
        if not allowed(current_user, rules, action):
            raise ApiError(403, _("Your role may not do this."))


def json_body(max_bytes=None, kinds=("application/json",)):
    """Return the parsed JSON body, or raise 413/415/400 with a message (never a 500)."""
    limit = max_bytes or current_app.config["API_MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, _("The request body is larger than %(n)d bytes.", n=limit))
    if request.mimetype not in kinds:
        raise ApiError(415, _("Send the body as %(kinds)s.", kinds=" or ".join(kinds)))
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError(413, _("The request body is larger than %(n)d bytes.", n=limit))
    if request.mimetype != "application/json":
        return raw
    try:
        return request.get_json(force=True)
    except Exception:  # werkzeug raises BadRequest subclasses and UnicodeDecodeError alike
        raise ApiError(400, _("The body is not valid UTF-8 JSON.")) from None
