"""Languages: zh_CN by default, English complete; one catalog for the product in portal/translations."""

import functools
from pathlib import Path

from babel import Locale
from flask import current_app
from flask import request
from flask import session
from flask.globals import _cv_app
from flask_babel import Babel
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape

TRANSLATIONS = Path(__file__).parent / "translations"

ROLE_LABELS = {
    "admin": _l("System administrator"),
    "hospital_it": _l("Hospital IT department"),
    "reporter": _l("Department user"),
    "engineer": _l("Maintenance engineer"),
    "manager": _l("Project manager"),
}

LANGUAGE_LABELS = {"zh_CN": "简体中文", "en": "English"}


def select_locale():
    """Pick the language: an explicit choice in this session, the user's preference, else zh_CN."""
    return parsed_locale(_chosen_language())


@functools.cache
def parsed_locale(code):
    """The babel Locale for *code*, parsed once: flask-babel parses the selector's string on every
    request, and babel's lookup of the likely subtags cost 4% of the queue page."""
    return NamedLocale.parse(code)


def language():
    """The request's language code, ``str(get_locale())``, read where flask-babel keeps it once chosen.

    flask-babel finds its per-request state through three proxies of ``g`` on each call, and a list
    page asks for the language ~30 times (the kept fragments' keys, the label tables, each
    translation): 3 % of the admin ticket list. Before the choice, or should flask-babel keep it
    elsewhere, this is get_locale() itself.
    """
    app_context = _cv_app.get(None)
    state = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    locale = getattr(state, "babel_locale", None)
    return str(locale if locale is not None else get_locale())


def catalog_gettext(translations):
    """flask-babel's ``Domain.gettext`` over *translations*, a catalog looked up once (a page's)."""

    def gettext(string, **variables):
        text = translations.ugettext(string)
        return text % variables if variables else text

    return gettext


class NamedLocale(Locale):
    """A Locale that keeps its identifier: flask-babel works it out (``str(locale)``, its catalogs'
    cache key) on every translation, and the per-language tables here key on it too: 3 % of the
    admin ticket list. The parsed locales are never changed."""

    def __str__(self):
        try:
            return self._identifier
        except AttributeError:
            self._identifier = super().__str__()
            return self._identifier


class EscapedLabels:
    """A table of lazily translated labels (code -> label), translated and HTML-escaped once per
    language: list pages show the same few labels on every row of every request."""

    def __init__(self, labels):
        self.labels = labels
        self.by_language = {}

    def __call__(self):
        """The table for the current request's language: code -> escaped label."""
        code = language()
        table = self.by_language.get(code)
        if table is None:
            table = self.by_language[code] = {key: escape(str(label)) for key, label in self.labels.items()}
        return table


def _chosen_language():
    languages = tuple(_config_languages())
    chosen = session.get("lang") if request else None
    if chosen in languages:
        return chosen
    preferred = getattr(current_user, "locale", "") if current_user and current_user.is_authenticated else ""
    if preferred in languages:
        return preferred
    return languages[0]


def _config_languages():
    return current_app.config["LANGUAGES"]


def init_i18n(app):
    """Install flask-babel (flask-admin needs it always) and the template helpers."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.extensions["weibao"].translations_path = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _helpers():
        return {
            "role_label": lambda role: ROLE_LABELS.get(role, role),
            "current_locale_tag": lambda: str(get_locale() or Locale("zh", "CN")).replace("_", "-"),
        }
