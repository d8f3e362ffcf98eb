"""flask-admin's main menu, rendered once per language, current view and set of items shown; and
the admin pages' other fixed parts (style sheets, scripts), rendered once per view and language.

Rendering the menu (each item's label, link and icon through Jinja macros) cost 8 % of an
admin list page, on every admin page. What it shows depends on the items the user may see, the
language and the current view (highlighted); the key holds exactly those, so the items' own access
checks still run on every request, and a plugin view with its own rules is keyed by its answer.
"""

from flask import current_app
from flask import request
from jinja2 import pass_context
from markupsafe import Markup

from portal.i18n import language


def shown_items(items):
    """The items of *items* the current user sees, as a hashable tree of item ids.

    Each item is asked once: a category's ``get_children`` asks its children again, and asking
    each item cost 4 % of an admin list page.
    """
    shown = []
    for item in items:
        if item.is_category():
            children = shown_items(item._children)
            if children:
                shown.append((id(item), children))
        elif item.is_accessible() and item.is_visible():
            shown.append(id(item))
    return tuple(shown)


def main_menu(admin_view, render):
    """The menu's HTML for *admin_view*; *render* is flask-admin's ``layout.menu`` macro."""
    key = (language(), admin_view.endpoint, shown_items(admin_view.admin.menu()))
    return current_app.extensions["weibao"].admin_menus.get_or_build(key, lambda: Markup(render()))


@pass_context
def once_per_view(context, name, render=None, caller=None):
    """The fragment *name* of the current admin view, rendered by *render* (a block's ``super``) or
    by a ``{% call %}`` block's body once per view, language and script root.

    Only for fragments that read nothing else: flask-admin's style sheet and script tags, ~20
    macro calls that link the same static files on every page (4 % of the ticket list).
    """
    render = render or caller
    if context.get("admin_csp_nonce_attribute"):
        return render()  # a nonce per request is part of the fragment
    key = (name, context["admin_view"].endpoint, language(), request.script_root)
    return current_app.extensions["weibao"].admin_fragments.get_or_build(key, lambda: Markup(render()))


class Kept(dict):
    """Fragments kept for the next requests, at most *limit*: emptied when full (searches and
    filters leave one entry per list URL, renamed hospitals a set of options). Every kept fragment
    of the admin pages and the user menu goes through ``get_or_build``."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def get_or_build(self, key, build):
        """The fragment kept under *key*, or ``build()``'s, kept."""
        value = self.get(key)
        if value is None:
            value = self.keep(key, build())
        return value

    def keep(self, key, value):
        """Keep *value* under *key* (replacing what was kept there), emptying the store first when full."""
        if key not in self and len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
