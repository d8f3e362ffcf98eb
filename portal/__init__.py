"""Weibao (维保): the HIS maintenance-contract portal."""

import logging

from flask import Flask

from portal.admin import init_admin
from portal.api import init_api
from portal.auth import init_auth
from portal.config import instance_path
from portal.config import load_config
from portal.db import init_db
from portal.i18n import init_i18n
from portal.json_provider import ResponseJSONProvider
from portal.plugins import init_plugins
from portal.queue import init_queue
from portal.queue import init_tasks
from portal.security import init_security
from portal.state import WeibaoState
from portal.user_menu import init_user_menu


def create_app(overrides=None):
    """Build one Weibao app; every stateful object is made here, so tests get a fresh one each."""
    app = Flask("portal", instance_path=instance_path(), instance_relative_config=True)
    app.json = ResponseJSONProvider(app)
    app.extensions["weibao"] = WeibaoState()
    load_config(app, overrides)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))
    init_db(app)
    init_i18n(app)  # flask-admin needs Babel on every app
    init_user_menu(app)
    init_security(app)
    init_auth(app)
    init_queue(app)
    # Plugins before admin, API and tasks: they contribute views, endpoints and tasks.
    init_plugins(app)
    init_admin(app)
    init_api(app)
    init_tasks(app)
    return app
