"""The /api/v1 base: health, the OpenAPI document and the shared error handling."""

import functools
from importlib import metadata

from flask import Blueprint
from flask import current_app
from flask import jsonify

from portal.api.endpoint import api_endpoint
from portal.api.errors import init_api_errors
from portal.api.openapi import build_openapi
from portal.db import db

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status", "database", "queue", "version"],
    "properties": {name: {"type": "string"} for name in ("status", "database", "queue", "version")},
}


@functools.cache
def weibao_version():
    """Return the installed distribution's version (read once: parsing the metadata costs more
    than the rest of a health check)."""
    try:
        return metadata.version("weibao")
    except metadata.PackageNotFoundError:
        return "0.0.0+source"


@blueprint.get("/health")
@api_endpoint("Service health", public=True, response=HEALTH_SCHEMA)
def health():
    """Report whether the database and the queue answer."""
    database = _probe(lambda: db.execute_sql("SELECT 1").fetchone())
    queue = _probe(lambda: current_app.extensions["weibao"].huey.pending_count())
    status = "ok" if database == queue == "ok" else "degraded"
    body = {"status": status, "database": database, "queue": queue, "version": weibao_version()}
    return jsonify(body), 200 if status == "ok" else 503


def _probe(check):
    try:
        check()
    except Exception as error:  # health must report any failure, whatever its kind
        return f"error: {type(error).__name__}"
    return "ok"


@blueprint.get("/openapi.json")
@api_endpoint("This OpenAPI document", public=True, response={"type": "object"})
def openapi():
    """Serve the OpenAPI document generated from the live URL map."""
    return jsonify(build_openapi(current_app, weibao_version()))


def api_blueprint(name, import_name):
    """Return a blueprint for a feature's endpoints under /api/v1."""
    return Blueprint(name, import_name, url_prefix="/api/v1")


def init_api(app):
    """Register the API base and make every /api/ error JSON.

    Runs after the plugins: every blueprint under /api/ is exempted from the form CSRF check
    because api_endpoint checks CSRF itself for cookie-authenticated writes.
    """
    init_api_errors(app)
    app.register_blueprint(blueprint)
    for registered in app.blueprints.values():
        if (registered.url_prefix or "").startswith("/api/"):
            app.extensions["csrf"].exempt(registered)
