"""Plugin discovery and the context through which built-ins and plugins contribute.

Order: built-in feature packages, then ``plugins/<name>``, then distributions' entry points in
the group ``weibao.plugins``. Installed is not enabled: only names listed in WEIBAO_PLUGINS load.
"""

import importlib
import sys
from dataclasses import dataclass
from dataclasses import field
from importlib import metadata
from pathlib import Path
from typing import Callable

from jinja2 import ChoiceLoader
from jinja2 import FileSystemLoader

from portal import signals

ENTRY_POINT_GROUP = "weibao.plugins"

# Feature packages that ship with the product; they use exactly the contract plugins use.
BUILTIN_MODULES = (
    "portal.accounts.plugin",
    "portal.calendars.plugin",
    "portal.contracts.plugin",
    "portal.tickets.plugin",
    "portal.notify.plugin",
    "knowledge_base.plugin",
    "portal.reports.plugin",
    "forms.plugin",
)


class PluginError(RuntimeError):
    """Start-up must stop: a plugin is unknown, duplicated, or its requirements are missing."""


@dataclass(frozen=True)
class Plugin:
    """What a plugin module exports as ``plugin``."""

    name: str
    setup: Callable
    requires: tuple = ()
    migrations: tuple = ()  # ordered callables taking the database; index+1 is the version
    description: str = ""


@dataclass
class PluginContext:
    """The calls a plugin's ``setup(ctx)`` may make; each lands in a strict registry."""

    app: object
    plugin: Plugin
    models: list = field(default_factory=list)

    def _add(self, kind, name, entry):
        return self.app.extensions["weibao"].registry(kind).add(name, entry)

    def add_models(self, *models):
        """Declare models the plugin owns (its migrations create them)."""
        for model in models:
            self._add("model", model._meta.table_name, model)

    def add_blueprint(self, blueprint, **options):
        """Register a Flask blueprint."""
        self._add("blueprint", blueprint.name, blueprint)
        self.app.register_blueprint(blueprint, **options)

    def add_admin_view(self, factory, name=None):
        """Add a callable that builds an admin view (views bind to one app, so build late)."""
        self._add("admin view", name or getattr(factory, "__name__", repr(factory)), factory)

    def add_field_type(self, name, field_type):
        self._add("field type", name, field_type)

    def add_validator(self, name, validator):
        self._add("validator", name, validator)

    def add_expression_function(self, name, function):
        self._add("expression function", name, function)

    def add_form_action(self, name, action):
        self._add("form action", name, action)

    def add_notification_channel(self, name, channel):
        self._add("notification channel", name, channel)

    def add_markdown_extension(self, name, extension):
        self._add("markdown extension", name, extension)

    def add_cli_command(self, command):
        self._add("cli command", command.name, command)

    def add_periodic_task(self, name, schedule, function):
        """Run *function* (no arguments, inside an app context) on a huey crontab *schedule*."""
        self._add("periodic task", name, (schedule, function))

    def add_task(self, name, function, **options):
        """Make *function* available as a huey task called *name*."""
        self._add("task", name, (function, options))

    def add_resource(self, name, rules):
        """Declare a resource and which roles may do what with it (see portal.permissions)."""
        self._add("resource", name, rules)

    def add_user_menu_item(self, name, item):
        """Add an item to the user menu on every page, before the profile link: ``item()`` returns
        its ``<li>`` as Markup for the logged-in user (portal/user_menu.py)."""
        self._add("user menu item", name, item)

    def add_demo_loader(self, name, loader):
        """Add a function that fills demo rows; loaders run in plugin order."""
        self._add("demo loader", name, loader)

    def add_translations(self, directory):
        """Add a translations/ folder (zh_Hans_CN and en catalogs made by ``python -m portal.catalog``)."""
        self.app.extensions["babel"].translation_directories.append(str(directory))

    def connect(self, signal_name, receiver):
        """Connect *receiver* to the named signal for this app only."""
        signal = signals.lookup(signal_name)
        signal.connect(receiver, sender=self.app, weak=False)
        self.app.extensions["weibao"].receivers.append((signal, receiver))


def _load_module_plugin(module_name):
    module = importlib.import_module(module_name)
    plugin = getattr(module, "plugin", None)
    if not isinstance(plugin, Plugin):
        raise PluginError(f"module {module_name!r} does not export `plugin = Plugin(...)`")
    return plugin


def discover(enabled_names):
    """Return the built-in plugins followed by the enabled ones, in load order."""
    found = [_load_module_plugin(name) for name in BUILTIN_MODULES]
    seen = {plugin.name for plugin in found}
    entry_points = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for name in enabled_names:
        if name in seen:
            raise PluginError(f"plugin {name!r} is listed twice or clashes with a built-in")
        plugin = _find_optional(name, entry_points)
        if plugin.name != name:
            raise PluginError(f"plugin {name!r} names itself {plugin.name!r}")
        found.append(plugin)
        seen.add(name)
    _check_requirements(found)
    return found


def _find_optional(name, entry_points):
    if importlib.util.find_spec(f"plugins.{name}") is not None:
        return _load_module_plugin(f"plugins.{name}")
    if name in entry_points:
        plugin = entry_points[name].load()
        if not isinstance(plugin, Plugin):
            raise PluginError(f"entry point {name!r} does not load a Plugin")
        return plugin
    raise PluginError(f"unknown plugin {name!r}: not in plugins/ and no entry point in {ENTRY_POINT_GROUP!r}")


def _check_requirements(plugins):
    loaded = set()
    for plugin in plugins:
        missing = [req for req in plugin.requires if req not in loaded]
        if missing:
            raise PluginError(f"plugin {plugin.name!r} needs {', '.join(missing)} loaded before it")
        loaded.add(plugin.name)


def enabled_plugin_names(config_value):
    """Split WEIBAO_PLUGINS ("a,b" or a list) into names."""
    if isinstance(config_value, (list, tuple)):
        return [str(name).strip() for name in config_value if str(name).strip()]
    return [name.strip() for name in str(config_value or "").split(",") if name.strip()]


def _template_folder(plugin):
    """Return the templates/ folder beside the module that defines the plugin's setup, if any."""
    module = sys.modules.get(plugin.setup.__module__)
    folder = Path(module.__file__).parent / "templates" if module and getattr(module, "__file__", None) else None
    return folder if folder is not None and folder.is_dir() else None


def init_plugins(app):
    """Discover and set up every plugin; a bad plugin list stops start-up with a clear message.

    A plugin's ``templates/`` folder joins the app's template search path after the core's.
    """
    registry = app.extensions["weibao"].registry("plugin")
    loaders = [app.jinja_loader]
    for plugin in discover(enabled_plugin_names(app.config.get("PLUGINS"))):
        registry.add(plugin.name, plugin)
        plugin.setup(PluginContext(app=app, plugin=plugin))
        folder = _template_folder(plugin)
        if folder is not None:
            loaders.append(FileSystemLoader(str(folder)))
    app.jinja_loader = ChoiceLoader(loaders)
