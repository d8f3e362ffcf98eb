"""flask-admin's main menu, rendered once per language, current view and set of items shown.

Rendering the menu (each item's label, link and icon through Jinja macros) cost 8 % of an
admin list page, on every admin page. What it shows depends on the items the user may see, the
language and the current view (highlighted); the key holds exactly those, so the items' own access
checks still run on every request, and a plugin view with its own rules is keyed by its answer.
"""

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup


def shown_items(items):
    """The items of *items* the current user sees, as a hashable tree of item ids."""
    shown = []
    for item in items:
        if item.is_category():
            children = item.get_children()
            if children:
                shown.append((id(item), shown_items(children)))
        elif item.is_accessible() and item.is_visible():
            shown.append(id(item))
    return tuple(shown)


def main_menu(admin_view, render):
    """The menu's HTML for *admin_view*; *render* is flask-admin's ``layout.menu`` macro."""
    menus = current_app.extensions["weibao"].admin_menus
    key = (str(get_locale()), admin_view.endpoint, shown_items(admin_view.admin.menu()))
    html = menus.get(key)
    if html is None:
        html = menus[key] = Markup(render())
    return html
