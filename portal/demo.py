"""Demo data: every plugin's demo loader, in load order, into an empty database."""

from portal.accounts.models import User
from portal.db import db


def load_demo(app):
    """Load demo rows if the database has no users; return the printed log-ins (empty if skipped)."""
    if User.select().exists():
        return []
    logins = []
    with db.atomic():
        for _name, loader in app.extensions["weibao"].registry("demo loader").items():
            logins.extend(loader(app) or [])
    return logins
