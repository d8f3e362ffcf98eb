"""The JSON error shape of API.md, and handlers that never let an /api/ request see HTML or a 500 page."""

import logging

from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "details"}}``."""

    def __init__(self, status, message, code=None, details=None):
        super().__init__(message)
        self.status = status
        self.message = str(message)
        self.code = code or HTTP_CODES.get(status, "error")
        self.details = details or []

    def response(self):
        body = {"error": {"code": self.code, "message": self.message, "details": self.details}}
        return jsonify(body), self.status


def problem(field, message, **location):
    """Return one entry of ``details``: the field (or path) and a message, with line/column if known."""
    entry = {"field": field, "message": str(message)}
    entry.update({key: value for key, value in location.items() if value is not None})
    return entry


def is_api_request():
    """Tell whether the current request is for the JSON API."""
    return request.path.startswith("/api/")


def init_api_errors(app):
    """Answer every error under /api/ in the JSON shape, including 404s and unexpected failures."""
    app.register_error_handler(ApiError, lambda error: error.response())

    @app.errorhandler(HTTPException)
    def _http_error(error):
        if not is_api_request():
            return error
        return ApiError(error.code or 500, error.description or error.name).response()

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api_request():
            return ApiError(500, "internal error; it has been logged").response()
        return "Internal Server Error", 500
