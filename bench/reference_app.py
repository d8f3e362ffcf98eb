"""The peer: a stock flask-admin peewee ModelView over the same ticket table, nothing else.

No log-in, no scoping, no audit, no CSRF: flask-admin's defaults (page size 20, COUNT(*) per
page, every column including the foreign keys, each shown through its own lazy query), plus
a second view with the two options people usually switch on first, a LIKE search on the title
and a status filter. Served by bench/servers.py under the same waitress settings as the portal.
"""

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.peewee import ModelView
from flask_babel import Babel

from portal.db import database_for
from portal.db import db
from portal.tickets.models import Ticket


class TicketSearchView(ModelView):
    column_searchable_list = ("title",)
    column_filters = ("status",)


def create_reference_app(database_url, instance_path):
    app = Flask("reference")
    app.config["SECRET_KEY"] = "bench-reference"
    Babel(app)  # flask-admin needs it (DESIGN.md section 10)
    database = database_for(database_url, instance_path)
    db.initialize(database)

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc):
        if not db.is_closed():
            db.close()

    admin = Admin(app, name="stock")
    admin.add_view(ModelView(Ticket, endpoint="ticket"))
    admin.add_view(TicketSearchView(Ticket, endpoint="ticket_search", name="Ticket search"))
    return app


def status_filter_arg(view_endpoint="ticket_search", app=None, status="in_progress"):
    """The ``flt0_N`` query argument of the status-equals filter of the search view."""
    admins = app.extensions["admin"]
    admin = admins[0] if isinstance(admins, list) else admins
    view = next(v for v in admin._views if v.endpoint == view_endpoint)
    for key, (_index, flt) in view._filter_args.items():
        if getattr(flt, "column", None) is Ticket.status and type(flt).__name__ == "FilterEqual":
            return f"flt0_{key}={status}"
    raise LookupError("no status equals filter")
