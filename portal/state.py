"""Per-app state, kept in ``app.extensions["weibao"]`` and never in module globals."""

from dataclasses import dataclass
from dataclasses import field

from flask import current_app

from portal.admin_menu import Kept
from portal.registry import Registry

#: Fragments kept per app: a few per view, language and set of menu items a role sees.
MAX_KEPT_FRAGMENTS = 1024
#: Sessions whose signed CSRF token is kept (portal/security.py).
MAX_SIGNED_CSRF_TOKENS = 4096


def _registries():
    return {
        kind: Registry(kind)
        for kind in (
            "plugin",
            "model",
            "blueprint",
            "admin view",
            "field type",
            "validator",
            "expression function",
            "form action",
            "notification channel",
            "markdown extension",
            "cli command",
            "periodic task",
            "task",
            "resource",
            "demo loader",
            "migration component",
            "user menu item",
        )
    }


@dataclass
class WeibaoState:
    """Everything one app instance owns: its database, queue and registries."""

    registries: dict = field(default_factory=_registries)
    database: object = None
    huey: object = None
    admin: object = None
    # rendered main menus, fixed parts of admin pages (portal/admin_menu.py), the user menu's
    # labels and links (portal/user_menu.py)
    admin_menus: Kept = field(default_factory=lambda: Kept(MAX_KEPT_FRAGMENTS))
    admin_fragments: Kept = field(default_factory=lambda: Kept(MAX_KEPT_FRAGMENTS))
    user_menu_parts: Kept = field(default_factory=lambda: Kept(MAX_KEPT_FRAGMENTS))
    # each session's signed CSRF token and when it was signed (portal/security.py)
    signed_csrf_tokens: Kept = field(default_factory=lambda: Kept(MAX_SIGNED_CSRF_TOKENS))
    translations_path: str = ""
    receivers: list = field(default_factory=list)
    tasks: dict = field(default_factory=dict)
    plugin_data: dict = field(default_factory=dict)  # plugins keep their per-app state here
    warm_ups: list = field(default_factory=list)  # start-up threads a server waits for (portal/heap.py)

    def registry(self, kind):
        """Return the registry of *kind* (e.g. "field type")."""
        return self.registries[kind]


def state():
    """Return the current app's WeibaoState."""
    return current_app.extensions["weibao"]


def registry(kind):
    """Return the current app's registry of *kind*."""
    return state().registry(kind)
