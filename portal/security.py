"""CSRF on every form POST and the response headers an intranet portal should send."""

from flask_wtf.csrf import CSRFProtect


def init_security(app):
    """Protect every POST with CSRF and send conservative security headers."""
    CSRFProtect(app)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
