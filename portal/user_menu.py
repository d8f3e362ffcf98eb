"""The user menu on every page (language, the packages' items, profile, log-out), written in Python.

Rendered through Jinja it cost 11 % of the admin ticket list: a url_for per language link, a
translation per label, an include with a copy of the context. The parts that depend only on the
language and the script root (labels, links) are built once for them; per request only the path to
come back to, the packages' items (notify's unread count), the user's name and role and the CSRF
token are filled in, each escaped. Packages and plugins add items with
``ctx.add_user_menu_item(name, item)``: ``item()`` returns the item's ``<li>`` as Markup.
"""

from types import SimpleNamespace
from urllib.parse import urlencode

from flask import current_app
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from markupsafe import escape

from portal.admin import QUERY_SAFE
from portal.i18n import LANGUAGE_LABELS
from portal.i18n import ROLE_LABELS
from portal.i18n import EscapedLabels
from portal.i18n import language

ROLE_HTML = EscapedLabels(ROLE_LABELS)


def fixed_part(name, build):
    """*build()*, built once per language and script root: the labels and links of a menu item."""
    key = (name, language(), request.script_root)
    return current_app.extensions["weibao"].user_menu_parts.get_or_build(key, build)


def _menu_parts():
    return SimpleNamespace(
        language=escape(_("Language")),
        languages=[(escape(url_for("accounts.set_language", lang=code)), escape(LANGUAGE_LABELS.get(code, code)))
                   for code in current_app.config["LANGUAGES"]],
        profile=escape(url_for("accounts.profile")), logout=escape(url_for("accounts.logout")),
        log_out=escape(_("Log out")))


def user_menu():
    """The menu's ``<ul>``: the language links come back to this page; the rest is for a user."""
    parts = fixed_part("user menu", _menu_parts)
    back = escape(urlencode([("next", request.full_path)], safe=QUERY_SAFE))  # as url_for encodes it
    languages = "".join(f'\n      <a class="dropdown-item" href="{url}?{back}">{label}</a>'
                        for url, label in parts.languages)
    html = (f'<ul class="navbar-nav ml-auto">\n  <li class="nav-item dropdown">\n'
            f'    <a class="nav-link dropdown-toggle" href="#" id="lang-menu" data-toggle="dropdown">{parts.language}</a>\n'
            f'    <div class="dropdown-menu dropdown-menu-right">{languages}\n    </div>\n  </li>\n')
    if current_user.is_authenticated:
        items = "".join(f"  {item()}\n" for _name, item in current_app.extensions["weibao"].registry(
            "user menu item").items())
        name = escape(current_user.display_name or current_user.username)
        role = ROLE_HTML().get(current_user.role) or escape(current_user.role)
        html += (f'{items}  <li class="nav-item"><a class="nav-link" id="profile-link" href="{parts.profile}">'
                 f'{name} · {role}</a></li>\n'
                 f'  <li class="nav-item">\n    <form method="post" action="{parts.logout}" class="form-inline">\n'
                 f'      <input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">\n'
                 f'      <button type="submit" id="logout-button" class="btn btn-link nav-link">{parts.log_out}</button>\n'
                 f'    </form>\n  </li>\n')
    return Markup(html + "</ul>")


def init_user_menu(app):
    """Offer ``weibao_user_menu()`` to every template (weibao/layout.html, the admin's base)."""
    app.add_template_global(user_menu, "weibao_user_menu")
