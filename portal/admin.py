"""The admin site: built per app, every view behind the role table and organisation scoping.

flask-admin leaves views open unless ``is_accessible`` says otherwise, and its ``get_query``
does not cover ``get_one``, edit, details, delete, actions or export (flask-admin #1739, #397);
its peewee backend writes without a transaction and deletes recursively. SecureModelView closes
each of those doors in one place.
"""

from collections import OrderedDict
from datetime import datetime
from functools import cached_property
from functools import partial
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import Admin
from flask_admin import AdminIndexView
from flask_admin import babel as admin_babel
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee import ModelView
from flask_admin.model import typefmt
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import CharField
from peewee import IntegrityError
from peewee import TextField
from wtforms.validators import ValidationError

from portal import audit
from portal.admin_menu import Kept
from portal.admin_menu import main_menu
from portal.admin_menu import once_per_view
from portal.auth import request_access
from portal.db import db
from portal.i18n import catalog_gettext
from portal.i18n import language
from portal.permissions import allowed
from portal.permissions import scope
from portal.text import text_problem
from portal.times import local_in

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: URLs kept per view (AccessMixin.get_url): per script root, endpoint and arguments.
MAX_KEPT_URLS = 4096
#: Filter groups kept translated per view: per locale and set of options a viewer may see.
MAX_TRANSLATED_FILTER_GROUPS = 1024
#: Per-language texts kept per view (more than the portal's two languages, never unbounded).
MAX_LANGUAGES = 16
#: The characters werkzeug's url_for leaves unquoted in a query (werkzeug.urls._urlencode).
QUERY_SAFE = "!$'()*,/:;?@"

# Which action of the role table each flask-admin endpoint performs.
ENDPOINT_ACTIONS = {
    "index_view": "view",
    "details_view": "view",
    "ajax_lookup": "view",
    "create_view": "create",
    "edit_view": "edit",
    "ajax_update": "edit",
    "delete_view": "delete",
    "action_view": "delete",
    "export": "export",
}


def local_datetime(view, value, name=None):
    """Show a stored UTC time in the installation's time zone, to the minute."""
    return local_in(value, ZoneInfo(current_app.config["TIMEZONE"]))


def local_time(value):
    """The same for templates outside flask-admin's formatters; no time shows as an empty cell."""
    return local_datetime(None, value) if value is not None else ""


class CSRFForm(FlaskForm):
    """The admin's form base: CSRF-aware, so the global CSRFProtect accepts admin POSTs."""


def neutralise_formula(value):
    """Prefix a cell that a spreadsheet would run as a formula, so exports cannot attack the reader."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _translated(group, options):
    """flask-admin's FilterGroup.non_lazy, with the options that follow the user as read once."""
    filters = []
    for index, item in enumerate(group.filters):
        copy = dict(item, operation=str(item["operation"]))
        shown = options.get(index, item["options"])
        if index in options or shown:  # no hospital to offer is still a list (bs4_filters.js)
            copy["options"] = [(value, str(label)) for value, label in shown]
        filters.append(copy)
    return str(group.label), filters


class AccessMixin:
    """Role-table access for any admin view: anonymous users go to log-in, others get 403."""

    resource = None  # the name in the role table

    @cached_property
    def _rules(self):
        # the role table is complete once the plugins are set up, before any view is built
        return current_app.extensions["weibao"].registry("resource").get(self.resource)

    def may(self, action):
        # A list page asks ~60 times (the menu's 28 views, buttons, actions): answered once per
        # request, view and action, with the user looked up once per request. Through the proxies
        # (g, current_user, current_app) on every first ask the menu cost 7 % of the ticket list.
        user, answers = request_access()
        key = (self.endpoint, action)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = allowed(user, self._rules, action)
        return answer

    def is_accessible(self):
        return self.may("view")

    # The main menu works out once per role whether an item shows (portal/admin_menu.py): for a
    # view that overrides neither, its answer follows from the role table.
    may.follows_role = is_accessible.follows_role = True

    def render(self, template, **kwargs):
        # flask-admin's templates translate through _gettext, which finds the request's catalog
        # through flask-babel's proxies for each string (~10 a list page): found once a page.
        self._template_args["_gettext"] = catalog_gettext(admin_babel.domain.get_translations())
        return super().render(template, **kwargs)

    def get_url(self, endpoint, **kwargs):
        # flask-admin's pages link 13 static files, the view's own pages and its exports through
        # here: the same few URLs on every request (5 % of the ticket list), each built once per
        # script root and arguments, in their order. Not with url_for's own options (_external
        # reads the request's host), nor with an argument that cannot be a key (a list).
        if any(name.startswith("_") for name in kwargs):
            return super().get_url(endpoint, **kwargs)
        key = (request.script_root, endpoint, *kwargs.items())
        try:
            hash(key)
        except TypeError:
            return super().get_url(endpoint, **kwargs)
        return self._kept_urls.get_or_build(key, partial(super().get_url, endpoint, **kwargs))

    @cached_property
    def _kept_urls(self):
        return Kept(MAX_KEPT_URLS)  # a search's export links are kept too, but only so many

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path))
        abort(403)


class SecureModelView(AccessMixin, ModelView):
    """A model view that scopes every read, wraps writes in a transaction with audit rows,
    deletes without recursion and neutralises formulas in exports."""

    form_base_class = CSRFForm
    can_view_details = True
    export_types = ["csv", "xlsx"]
    page_size = 50
    column_type_formatters = {datetime: local_datetime, **typefmt.BASE_FORMATTERS}
    column_type_formatters_detail = {datetime: local_datetime, **typefmt.DETAIL_FORMATTERS}
    scope_fields = {}  # e.g. {"hospital": Model.hospital, "vendor": Model.vendor}

    def search_placeholder(self):
        # Asked on every list page: its lazy strings translated once per language.
        return self._search_placeholders.get_or_build(language(), self._translated_search_placeholder) or None

    def _translated_search_placeholder(self):
        labels = [str(self.column_labels.get(name, name)) for name in (self.column_searchable_list or ())
                  if isinstance(name, str)]
        return str(_l("Search: %(fields)s", fields=", ".join(labels))) if labels else ""

    @cached_property
    def _search_placeholders(self):
        return Kept(MAX_LANGUAGES)

    @property
    def can_create(self):
        return self.may("create")

    @property
    def can_edit(self):
        return self.may("edit")

    @property
    def can_delete(self):
        return self.may("delete")

    @property
    def can_export(self):
        return self.may("export")

    def _get_list_url(self, view_args):
        # flask-admin builds every link of a list page (return, reset, pager, each sort header)
        # through url_for: 7 % of the ticket list. The same arguments in the same order, encoded
        # as url_for encodes them, after the view's URL built once.
        arguments = {"page": view_args.page or None, "sort": view_args.sort,
                     "desc": 1 if view_args.sort_desc else None, "search": view_args.search,
                     **view_args.extra_args, "page_size": self.get_safe_page_size(view_args.page_size),
                     **self._get_filters(view_args.filters)}
        query = urlencode([(key, value) for key, value in arguments.items() if value is not None], safe=QUERY_SAFE)
        return f"{self.get_url('.index_view')}?{query}" if query else self.get_url(".index_view")

    def _get_filter_groups(self):
        # flask-admin translates every filter's label, operation and options again on each list
        # request: 8 % of the ticket list's instructions. Each group is translated once per locale
        # and set of options; options that follow the user (an iterable, not a list: the hospitals
        # a viewer may see) are read per request and are part of the key.
        if not self._filter_groups:
            return None
        locale = language()
        groups = OrderedDict()
        for key, group in self._filter_groups.items():
            followed = {index: tuple(map(tuple, item["options"])) for index, item in enumerate(group.filters)
                        if not isinstance(item["options"], (list, tuple, type(None)))}
            label, filters = self._translated_filter_groups.get_or_build(
                (locale, key, tuple(followed.items())), lambda group=group, followed=followed: _translated(group, followed))
            groups[label] = filters
        return groups

    @cached_property
    def _translated_filter_groups(self):
        return Kept(MAX_TRANSLATED_FILTER_GROUPS)

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        action = ENDPOINT_ACTIONS.get(name, "view")
        if not self.may(action):
            abort(403)
        return None

    def scoped(self, query):
        return scope(query, current_user, **self.scope_fields)

    def get_query(self):
        return self.scoped(super().get_query())

    def get_count_query(self):
        return self.scoped(super().get_count_query())

    def get_one(self, id):
        pk = self.model._meta.primary_key
        try:
            key = pk.python_value(int(id)) if pk.field_type in ("AUTO", "INT", "BIGAUTO") else id
        except (TypeError, ValueError):
            abort(404)
        found = self.get_query().where(pk == key).first()
        if found is None:
            if self.model.select().where(pk == key).exists():
                audit.record("access_denied", object_type=self.model.__name__, object_id=key,
                             summary=f"{request.method} {request.path}")
            abort(404)
        return found

    def limit_choices(self, form):
        """Narrow the form's select fields to rows this user may pick (views override this)."""
        return form

    def create_form(self, obj=None):
        return self.limit_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self.limit_choices(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        """Refuse text the databases cannot store faithfully, naming the field (never a 500)."""
        for name, field in model._meta.fields.items():
            value = getattr(model, name)
            if isinstance(field, (CharField, TextField)) and value is not None:
                limit = field.max_length if isinstance(field, CharField) else None
                message = text_problem(value, limit, multiline=isinstance(field, TextField))
                if message:
                    label = getattr(getattr(form, name, None), "label", None)
                    raise ValidationError(f"{label.text if label else name}: {message}")

    def create_model(self, form):
        with db.atomic() as transaction:
            model = super().create_model(form)
            if model is False:
                transaction.rollback()
                return False
            audit.record("create", model, changes=audit.model_changes({}, audit.snapshot(model)))
        return model

    def update_model(self, form, model):
        before = audit.snapshot(model)
        with db.atomic() as transaction:
            if not super().update_model(form, model):
                transaction.rollback()
                return False
            audit.record("update", model, changes=audit.model_changes(before, audit.snapshot(model)))
        return True

    def delete_model(self, model):
        try:
            with db.atomic():
                self.on_model_delete(model)
                audit.record("delete", model, changes=audit.model_changes(audit.snapshot(model), {}))
                model.delete_instance(recursive=False)
        except IntegrityError:
            flash(_l("This record is still referenced by other records and cannot be deleted."), "error")
            return False
        self.after_model_delete(model)
        return True

    @action("delete", _l("Delete"), _l("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        """Delete the selected rows that this user may see, one audited transaction each."""
        pk = self.model._meta.primary_key
        deleted = sum(1 for model in self.get_query().where(pk << list(ids)) if self.delete_model(model))
        flash(_l("%(count)s record(s) deleted.", count=deleted), "success")

    def get_export_value(self, model, name):
        return neutralise_formula(super().get_export_value(model, name))

    @expose("/export/<export_type>/")
    def export(self, export_type):
        audit.record("export", object_type=self.model.__name__, summary=export_type)
        return super().export(export_type)


class PortalIndexView(AccessMixin, AdminIndexView):
    """The admin home: open to every logged-in user; features add their own pages."""

    resource = "portal"

    @expose("/")
    def index(self):
        # The reports package's dashboard is everyone's home when it is installed.
        if "dashboard.index" in current_app.view_functions:
            return redirect(url_for("dashboard.index"))
        return self.render("weibao/admin_home.html")


def init_admin(app):
    """Build the Admin for this app and add every view that built-ins and plugins registered."""
    admin = Admin(
        app,
        name=_l("Weibao"),
        index_view=PortalIndexView(name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(base_template="weibao/admin_base.html", fluid=True),
        translations_path=app.extensions["weibao"].translations_path,
    )
    for _name, factory in app.extensions["weibao"].registry("admin view").items():
        admin.add_view(factory())
    app.extensions["weibao"].admin = admin
    app.add_template_global(main_menu, "weibao_main_menu")
    app.add_template_global(once_per_view, "weibao_once_per_view")
    return admin
