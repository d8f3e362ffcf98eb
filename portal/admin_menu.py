"""flask-admin's main menu, rendered once per language, current view and set of items shown; and
the admin pages' other fixed parts (style sheets, scripts), rendered once per view and language.

Rendering the menu (each item's label, link and icon through Jinja macros) cost 8 % of an
admin list page, on every admin page. What it shows depends on the items the user may see, the
language and the current view (highlighted); the key holds exactly those, so the items' own access
checks still run on every request, and a plugin view with its own rules is keyed by its answer.
"""

from flask import current_app
from flask import request
from flask_admin.base import BaseView
from flask_admin.menu import MenuView
from jinja2 import pass_context
from markupsafe import Markup

from portal.auth import request_access
from portal.i18n import language
from portal.permissions import acting_role
from portal.permissions import allowed


def shown_items(items):
    """The items of *items* the current user sees, as a hashable tree of item ids.

    Asking each of the 28 items cost 4 % of an admin list page. Most answers follow from the user's
    role alone (a view of the role table that does not answer in its own way): those are worked out
    once per role into a plan, and only the rest are asked on each request.
    """
    user, _answers = request_access()
    plan = current_app.extensions["weibao"].admin_menus.get_or_build(
        ("plan", id(items), acting_role(user)), lambda: _plan(items, user))
    return _shown(plan)


class _Ask(tuple):
    """A plan's item asked on each request: ``(item,)``."""


class _Category(tuple):
    """A plan's category with items to ask: ``(category id, its plan)``."""


def _plan(items, user):
    """*items* with the answers that follow from *user*'s role put in: an item's id (shown),
    ``_Ask`` (asked per request), ``_Category``, or a category's shown tree. Each item is asked
    once: a category's ``get_children`` would ask its children again."""
    plan = []
    for item in items:
        if item.is_category():
            children = _plan(item._children, user)
            if any(type(entry) in (_Ask, _Category) for entry in children):
                plan.append(_Category((id(item), children)))
            elif children:
                plan.append((id(item), children))
        elif not _follows_role(item):
            plan.append(_Ask((item,)))
        elif allowed(user, item._view._rules, "view"):
            plan.append(id(item))
    return tuple(plan)


def _follows_role(item):
    """Whether *item* shows exactly when its view's role table lets the user view it."""
    view = type(getattr(item, "_view", None))
    return (type(item) is MenuView and getattr(getattr(view, "is_accessible", None), "follows_role", False)
            and getattr(getattr(view, "may", None), "follows_role", False) and view.is_visible is BaseView.is_visible)


def _shown(plan):
    shown = []
    for entry in plan:
        kind = type(entry)
        if kind is _Ask:
            if entry[0].is_accessible() and entry[0].is_visible():
                shown.append(id(entry[0]))
        elif kind is _Category:
            children = _shown(entry[1])
            if children:
                shown.append((entry[0], children))
        else:
            shown.append(entry)
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
