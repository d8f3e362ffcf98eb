"""A small reference plugin: one admin page and one signal receiver.

Enable it with ``WEIBAO_PLUGINS=example``. It shows the whole contract in a few lines:
a role rule, an admin page built per app, a receiver of a documented signal, and a CLI command.
"""

from pathlib import Path

import click
from flask import current_app
from flask_admin import BaseView
from flask_admin import expose
from flask_babel import lazy_gettext as _l

from portal.admin import AccessMixin
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin


class HelloView(AccessMixin, BaseView):
    """An admin page that lists the log-ins this plugin has seen since start-up."""

    resource = "example"

    @expose("/")
    def index(self):
        seen = current_app.extensions["weibao"].plugin_data.setdefault("example", [])
        return self.render("example/hello.html", seen=seen)


def remember_login(sender, user, **extra):
    """Receive user_logged_in: keep the username in this app's state (never a module global)."""
    sender.extensions["weibao"].plugin_data.setdefault("example", []).append(user.username)


@click.command("example-hello")
def hello_command():
    """Say hello (shows how a plugin adds a CLI command)."""
    click.echo("hello from the example plugin")


def setup(ctx):
    ctx.add_resource("example", rules(view=ALL_ROLES))
    ctx.add_admin_view(lambda: HelloView(name=_l("Example plugin"), endpoint="example", url="/admin/example"), "example")
    ctx.connect("user_logged_in", remember_login)
    ctx.add_cli_command(hello_command)
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(name="example", setup=setup, requires=("accounts",), description="Reference plugin")
