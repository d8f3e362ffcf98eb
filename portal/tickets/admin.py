"""The scoped admin list of tickets: filters on indexed columns, no COUNT(*), no LIKE search."""

import time
from functools import cached_property
from zoneinfo import ZoneInfo

from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.peewee import filters
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from markupsafe import escape
from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import TextField

from portal.accounts.models import Organization
from portal.admin import MAX_LANGUAGES
from portal.admin import SecureModelView
from portal.admin_menu import Kept
from portal.contracts.models import Contract
from portal.i18n import EscapedLabels
from portal.i18n import language
from portal.permissions import Viewer
from portal.permissions import scope_viewer
from portal.prepared import prepared
from portal.tickets import search
from portal.tickets.admin_page import LIST_READ
from portal.tickets.admin_page import PreparedListPage
from portal.tickets.admin_page import joined_select
from portal.tickets.api import search_condition
from portal.tickets.models import Ticket
from portal.tickets.service import visible
from portal.tickets.service import visible_contracts
from portal.tickets.workflow import CATEGORY_LABELS
from portal.tickets.workflow import PRIORITY_LABELS
from portal.tickets.workflow import STATUS_LABELS
from portal.times import stored_local


def _number_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(url_for("tickets.detail", ticket_id=model.id), escape(model.number))


#: Deep pages cost an index walk of 50 rows per page (OFFSET); nobody reads past page 100 of a
#: ticket list, crawlers and "last page" clicks do. Filters narrow the list instead.
MAX_PAGE = 100


@prepared
def _visible_hospitals(shape, **values):
    hospitals = visible_contracts(Viewer(shape, values)).select(Contract.hospital).distinct()
    return (Organization.select(Organization.id, Organization.name)
            .where(Organization.id.in_(hospitals)).order_by(Organization.name, Organization.id).tuples())


#: The hospital filter's options change when a contract is signed or a hospital renamed, and every
#: list page shows them (100 names sorted for a vendor: 7 % of the page): read again per viewer at
#: most every this many seconds.
HOSPITAL_OPTIONS_TTL = 30


def _hospital_options():
    """The hospitals of the contracts the current user may see (admin: all), for the filter."""
    shape, values = scope_viewer(current_user)
    cache = current_app.extensions["weibao"].plugin_data.setdefault("tickets.hospital_options", {})
    key = (shape, tuple(sorted(values.items())))
    now = time.monotonic()
    cached = cache.get(key)
    if cached is None or now - cached[0] > HOSPITAL_OPTIONS_TTL:
        cached = cache[key] = (now, [(str(hospital_id), name) for hospital_id, name in _visible_hospitals(shape, **values)])
    return cached[1]


class _PerRequest:
    """Options flask-admin caches at start-up but reads per request: computed when iterated."""

    def __init__(self, function):
        self.function = function

    def __bool__(self):
        return True

    def __iter__(self):
        return iter(self.function())


class HospitalFilter(filters.FilterEqual):
    """Tickets of one hospital; a value that is not an id is ignored (never reaches the database)."""

    def get_options(self, view):
        return _PerRequest(_hospital_options)

    def validate(self, value):
        return isinstance(value, str) and value.isdigit() and len(value) < 19

    def clean(self, value):
        return int(value)


def _choice_filters(column, label, labels):
    """Equal / not equal / one of, offered as a drop-down of the column's labelled values.

    flask-admin's defaults for a text column add "contains" and "empty", which read every visible
    ticket (LIKE '%…%') — on a coded column they find nothing an equality would not.
    """
    options = list(labels.items())
    return (filters.FilterEqual(column, label, options=options),
            filters.FilterNotEqual(column, label, options=options),
            filters.FilterInList(column, label, options=options))


class _LocalTime:
    """Times typed into the filter are the installation's local time, stored times are UTC."""

    def _local(self, value):
        return value.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


class ReportedBetween(_LocalTime, filters.DateTimeBetweenFilter):
    def clean(self, value):
        return [self._local(v) for v in super().clean(value)]


class ReportedAfter(_LocalTime, filters.DateTimeGreaterFilter):
    def clean(self, value):
        return self._local(super().clean(value))


class ReportedBefore(_LocalTime, filters.DateTimeSmallerFilter):
    def clean(self, value):
        return self._local(super().clean(value))


#: Filter groups' JSON kept per language and set of hospital options (one set per organisation).
MAX_CACHED_FILTER_GROUPS = 256
#: Row starts and headers kept by TicketView (one per language, list URL and set of actions).
MAX_KEPT_PER_LIST_URL = 512
#: Where a kept row start holds the request's CSRF token (the delete button's form).
CSRF_STAND_IN = "__weibao_csrf_token__"

#: The coded columns' labels, translated and escaped once per language.
LABELS_HTML = {"status": EscapedLabels(STATUS_LABELS), "priority": EscapedLabels(PRIORITY_LABELS),
               "category": EscapedLabels(CATEGORY_LABELS)}


#: The current sort column's arrow, ascending and descending (flask-admin's list.html).
SORT_ARROWS = (' <span class="fa fa-chevron-up glyphicon glyphicon-chevron-up"></span>',
               ' <span class="fa fa-chevron-down glyphicon glyphicon-chevron-down"></span>')


def _escape(text):
    """markupsafe.escape's characters and entities, as a str: a Markup per cell cost 3 % of the page."""
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def _text(value):
    """*value* as HTML, as markupsafe.escape makes it."""
    if value is None:
        return ""
    return value.__html__() if hasattr(value, "__html__") else _escape(str(value))


class _Cells:
    """Per-request writers of the list's cells, one per column: each takes a row and returns the
    cell's escaped HTML, with the labels translated, the link prefix and the zone looked up once."""

    def __init__(self, view):
        self.view = view
        self.zone = ZoneInfo(current_app.config["TIMEZONE"])
        self.detail_prefix = _escape(url_for("tickets.detail", ticket_id=0)[:-1])
        self.labels = {name: labels() for name, labels in LABELS_HTML.items()}
        self.text_unformatted = str not in view.column_type_formatters
        self.writers = [(name, self.writer(name)) for name, _ in view._list_columns]
        self.cell_starts = [(f'<td class="col-{name}">', write) for name, write in self.writers]

    def writer(self, name):
        field = Ticket._meta.fields.get(name)
        if name == "number":
            return lambda row: f'<a href="{self.detail_prefix}{row.id}">{_escape(row.number)}</a>'
        if name in self.labels:
            labels = self.labels[name]
            return lambda row: labels.get(getattr(row, name)) or _text(getattr(row, name))
        if isinstance(field, DateTimeField):
            # local_datetime's output, the zone looked up once a page; a prepared page's row holds
            # the stored value, a model (search, other filters) the converted time
            return lambda row: "" if getattr(row, name) is None else stored_local(getattr(row, name), self.zone)
        if isinstance(field, (CharField, TextField)):  # text on every path: escaped
            return lambda row: "" if (value := getattr(row, name)) is None else _escape(value)
        if isinstance(field, BooleanField):  # two icons, formatted once a page
            shown = {flag: self.shown(flag, name) for flag in (True, False)}
            return lambda row: shown.get(getattr(row, name), "")
        return lambda row: self.shown(getattr(row, name), name)

    def shown(self, value, name):
        """*value* as flask-admin's type formatters show it elsewhere (booleans), else escaped."""
        if value is None:
            return ""
        if type(value) is str and self.text_unformatted:  # a joined name: half the cells of the page
            return _escape(value)
        formatter = self.view.column_type_formatters.get(type(value))
        return _text(formatter(self.view, value, name) if formatter else value)

    def cells(self, row):
        """(column name, cell HTML) of *row*, in the list's order."""
        return [(name, write(row)) for name, write in self.writers]

    def row(self, row):
        # f-strings, not +: a label is Markup, and str + Markup escapes the str
        return "".join([f"{start}{write(row)}</td>" for start, write in self.cell_starts])


class TicketView(SecureModelView):
    resource = "tickets"
    list_template = "tickets/admin_list.html"
    scope_fields = {"hospital": Ticket.hospital, "vendor": Ticket.vendor}
    can_create = False  # tickets are reported through /tickets/new or the API (numbering, SLA, timeline)
    simple_list_pager = True  # no COUNT(*) over the whole table on every page view
    column_list = ("number", "title", "priority", "status", "category", "hospital", "assignee", "reported_at",
                   "resolve_due", "resolve_breached", "satisfaction")
    column_default_sort = ("id", True)
    column_sortable_list = ("number", "priority", "status", "reported_at", "resolve_due")
    column_searchable_list = ("title", "description")  # the box is served by search.py, not LIKE
    column_filters = (*_choice_filters(Ticket.status, _l("Status"), STATUS_LABELS),
                      *_choice_filters(Ticket.priority, _l("Priority"), PRIORITY_LABELS),
                      *_choice_filters(Ticket.category, _l("Category"), CATEGORY_LABELS),
                      "resolve_breached", "response_breached",
                      HospitalFilter(Ticket.hospital, _l("Hospital")),
                      ReportedBetween(Ticket.reported_at, _l("Reported at")),
                      ReportedAfter(Ticket.reported_at, _l("Reported at")),
                      ReportedBefore(Ticket.reported_at, _l("Reported at")))
    column_details_exclude_list = ("sla_next_at",)
    form_columns = ("title", "description", "kb_article_id")  # workflow fields change only through actions
    column_formatters = {
        "number": _number_link,
        "status": lambda v, c, m, p: STATUS_LABELS.get(m.status, m.status),
        "priority": lambda v, c, m, p: PRIORITY_LABELS.get(m.priority, m.priority),
        "category": lambda v, c, m, p: CATEGORY_LABELS.get(m.category, m.category),
    }
    column_labels = {
        "number": _l("Number"), "title": _l("Title"), "priority": _l("Priority"), "status": _l("Status"),
        "category": _l("Category"), "hospital": _l("Hospital"), "assignee": _l("Assignee"),
        "reported_at": _l("Reported at"), "resolve_due": _l("Resolve by"), "resolve_breached": _l("Resolve breached"),
        "response_breached": _l("Response breached"), "satisfaction": _l("Satisfaction"), "contract": _l("Contract"),
        "description": _l("Description"), "system": _l("System"), "kb_article_id": _l("Knowledge base article"),
    }

    @expose("/")
    def index_view(self):
        view_args = self._get_list_extra_args()
        if view_args.page and view_args.page >= MAX_PAGE:
            flash(_("Only the first %(pages)d pages are shown; narrow the list with the filters "
                    "(hospital, reported at, status…).", pages=MAX_PAGE), "warning")
            return redirect(self._get_list_url(view_args.clone(page=MAX_PAGE - 1)))
        # The page reads only what it shows (not exports); the writers, with their translated
        # labels and link prefix, are built once per language and script root (3 % of the page).
        g.ticket_list_cells = self._cells.get_or_build((language(), request.script_root), lambda: _Cells(self))
        try:
            return super().index_view()
        finally:
            g.pop("ticket_list_cells", None)

    @cached_property
    def _cells(self):
        return Kept(MAX_LANGUAGES)

    def list_header(self, sort_column, sort_desc, sort_url, return_url):
        """The column headers of tickets/admin_list.html: flask-admin's markup, sort links first;
        kept per language and list URL (*return_url* holds the sort, the search and the filters
        the five sort links carry: building them cost 4 % of the page)."""

        def build():
            cells = []
            for index, (name, label, sort_title) in enumerate(self._header_labels()):
                if sort_title is not None:
                    current = sort_column == index
                    arrow = SORT_ARROWS[bool(sort_desc)] if current else ""
                    label = f'<a href="{_escape(sort_url(index, current))}" title="{sort_title}">{label}{arrow}</a>'
                cells.append(f'<th class="column-header col-{name}">{label}</th>')
            return Markup("".join(cells))

        return self._headers.get_or_build((language(), request.script_root, return_url), build)

    @cached_property
    def _headers(self):
        return Kept(MAX_KEPT_PER_LIST_URL)

    def _header_labels(self):
        """Per column: its name, escaped label and sort link title (None: not sortable), for the
        current language; translated once per language, not on every page."""
        code = language()
        labels = self._header_labels_by_language.get(code)
        if labels is None:
            labels = self._header_labels_by_language[code] = [
                (name, _escape(str(label)),
                 _escape(admin_gettext("Sort by %(name)s", name=label)) if self.is_sortable(name) else None)
                for name, label in self._list_columns]
        return labels

    @cached_property
    def _header_labels_by_language(self):
        return {}

    def filter_groups_json(self, groups):
        """The filter groups as the page's JSON (bs4_filters.js reads it): the same for every page
        of a language and a set of hospital options, so encoded once for them (3 % of the page)."""
        policies = current_app.jinja_env.policies  # as list.html's |tojson writes it
        return self._filter_groups_json.get_or_build(
            (language(), tuple(_hospital_options())),
            lambda: htmlsafe_json_dumps(groups, dumps=policies["json.dumps_function"], **policies["json.dumps_kwargs"]))

    @cached_property
    def _filter_groups_json(self):
        return Kept(MAX_CACHED_FILTER_GROUPS)  # renamed hospitals and changed contracts leave old keys

    def row_start(self, stand_in, actions, list_row_actions, return_url, delete_form):
        """The check box and row action buttons of *stand_in*'s row (tickets/_row_start.html),
        kept per language, list URL and set of actions: importing flask-admin's row_actions.html
        (and lib.html, with a copy of the context each) and rendering three macros cost 7 % of the
        page. The delete button's CSRF token is kept as a stand-in and filled in per request."""
        token = generate_csrf()
        key = (language(), request.script_root, return_url, tuple(name for name, _label in actions),
               tuple(type(action) for action in list_row_actions), tuple(map(id, self.column_extra_row_actions or ())))
        html = self._row_starts.get_or_build(key, lambda: self.render(
            "tickets/_row_start.html", stand_in=stand_in, actions=actions, list_row_actions=list_row_actions,
            return_url=return_url, delete_form=delete_form, get_pk_value=self.get_pk_value,
        ).strip().replace(token, CSRF_STAND_IN))
        return Markup(html.replace(CSRF_STAND_IN, token))

    @cached_property
    def _row_starts(self):
        return Kept(MAX_KEPT_PER_LIST_URL)

    def list_rows(self, rows, row_start, stand_in):
        """The ``<tr>`` elements of tickets/admin_list.html: *row_start*, the check box and buttons
        rendered once with *stand_in* for the id, then each row's cells (escaped by _Cells)."""
        if not rows:
            return Markup('<tr><td colspan="999"><div class="text-center">{}</div></td></tr>').format(
                self.get_empty_list_message())
        cells, row_start = g.ticket_list_cells, str(row_start)
        return Markup("".join([f"<tr>{row_start.replace(stand_in, str(int(row.id)))}{cells.row(row)}</tr>"
                               for row in rows]))

    def get_list(self, page, sort_column, sort_desc, search_text, filters, execute=True, page_size=None):
        # Pages count from 0 in flask-admin; whatever calls this never walks past the cap.
        page = min(page, MAX_PAGE - 1) if page else page
        # The search box goes through the segmented index (get_query), never flask-admin's LIKE.
        g.ticket_search = (search_text or "").strip()[:search.MAX_QUERY_CHARS]
        try:
            if execute and g.get("ticket_list_cells") and not g.ticket_search:
                order = [(self._sortable_columns[sort_column], sort_desc)] if sort_column is not None \
                    else self._get_default_order()
                rows = self.prepared_page.rows(current_user._get_current_object(), page, order,
                                               [(position, value) for position, _, value in filters],
                                               page_size or self.page_size)
                if rows is not None:
                    return None, rows
            if not (page and execute and g.get("ticket_list_cells")):
                return super().get_list(page, sort_column, sort_desc, None, filters, execute, page_size)
            return self._deep_page(page, sort_column, sort_desc, filters, page_size)
        finally:
            g.pop("ticket_search", None)

    @cached_property
    def prepared_page(self):
        return PreparedListPage(self)

    def _deep_page(self, page, sort_column, sort_desc, filters, page_size):
        """A page past the first (a search, or filters the prepared page leaves to flask-admin):
        its ids are picked on the index alone, then only those rows are read and joined."""
        g.ticket_ids_only = True
        try:
            count, ids = super().get_list(page, sort_column, sort_desc, None, filters, False, page_size)
        finally:
            g.pop("ticket_ids_only", None)
        _, rows = super().get_list(None, sort_column, sort_desc, None, [], False, page_size)
        return count, list(rows.where(Ticket.id.in_(ids)))

    def get_query(self):
        if g.get("ticket_ids_only"):
            return self._searched(self.list_select(current_user, ids_only=True))
        if g.get("ticket_list_cells"):
            return self._searched(self.list_select(current_user))
        return self._searched(self.scoped(joined_select(Ticket)))  # whole tickets: exports

    def list_select(self, user, ids_only=False):
        """The list's select scoped to *user* (None: not scoped, for rows whose ids were picked
        scoped): only the ids, or the shown columns with the hospital and assignee."""
        query = Ticket.select(Ticket.id) if ids_only else joined_select(*LIST_READ)
        return query if user is None else visible(query, user)

    @staticmethod
    def _searched(query):
        return query.where(search_condition(g.ticket_search)) if g.get("ticket_search") else query

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        search.index_ticket(model)  # inside update_model's transaction: title/description may change

    def on_model_delete(self, model):
        super().on_model_delete(model)
        search.remove_ticket(model.id)

    def scoped(self, query):
        # Beyond the organisation: a reporter sees their own and their department's tickets only.
        return visible(query, current_user)


def admin_views():
    return [("tickets", lambda: TicketView(Ticket, name=_l("Tickets"), category=_l("Tickets"), endpoint="ticket_admin"))]
