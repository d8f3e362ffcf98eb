"""Report pages (admin BaseViews): the dashboard at /admin/dashboard/, and under /admin/reports/
the monthly report (HTML for A4, XLSX, CSV), the weekly confirmation sheet, the quarterly
inspection report, the scorecard and the drill-down lists behind every figure.

Every page reads ONE contract the viewer may see (contracts.access.visible_contract: 404 and an
audit row otherwise); bad parameters get a 400 page with the message, never a 500.
"""

import json
from functools import wraps

from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import BaseView
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from portal import audit
from portal.accounts.models import utcnow
from portal.admin import AccessMixin
from portal.api.errors import ApiError
from portal.contracts.access import scoped_contracts
from portal.contracts.access import visible_contract
from portal.contracts.models import Contract
from portal.db import db
from portal.permissions import allowed
from portal.reports import dashboard as dashboard_data
from portal.reports import evidence
from portal.reports import exports
from portal.reports import labels
from portal.reports import monthly
from portal.reports import periods
from portal.reports import scorecard as scorecards
from portal.reports import submissions
from portal.reports import svg
from portal.reports import weekly
from portal.text import text_problem

HTML_DETAIL_LIMIT = 20_000


def guarded(view):
    """Answer a malformed report parameter with a 400 page naming it (never a 500)."""
    @wraps(view)
    def wrapped(self, *args, **kwargs):
        try:
            return view(self, *args, **kwargs)
        except periods.BadParameter as error:
            return self.bad(error.message)

    return wrapped


def may(resource, action):
    rules = current_app.extensions["weibao"].registry("resource").get(resource)
    return allowed(current_user, rules, action)


class ReportPage(AccessMixin, BaseView):
    """Shared helpers: parameter errors as 400 pages, contract lookup with 404."""

    def bad(self, message, status=400):
        return self.render("reports/error.html", message=message), status

    def contract(self, contract_id):
        found = visible_contract(contract_id)
        if found is None:
            abort(404)
        return found

    def context(self):
        return {"labels": labels, "svg": svg, "may": may}

    def render(self, template, **kwargs):
        return super().render(template, **self.context(), **kwargs)


class DashboardView(ReportPage):
    resource = "dashboard"

    @expose("/")
    def index(self):
        with_contracts = may("reports", "view")
        data = dashboard_data.dashboard(current_user._get_current_object(), with_contracts)
        return self.render("reports/dashboard.html", data=data, with_contracts=with_contracts)


class ReportsView(ReportPage):
    resource = "reports"

    def is_visible(self):
        return self.may("view")

    @expose("/")
    def index(self):
        contracts = list(scoped_contracts().order_by(Contract.end_date.desc(), Contract.id).limit(200))
        today = periods.today()
        return self.render("reports/index.html", contracts=contracts, today=today)

    @expose("/monthly/<int:contract_id>")
    @guarded
    def monthly(self, contract_id):
        contract = self.contract(contract_id)
        period = periods.parse_month(request.args)
        kind = request.args.get("format", "html")
        if kind not in ("html", "xlsx", "csv"):
            return self.bad(_("format must be html, xlsx or csv."))
        if kind == "html":
            data = monthly.report(contract, period, detail_limit=HTML_DETAIL_LIMIT)
            return self.render("reports/monthly.html", data=data, contract=contract, period=period)
        if not self.may("export"):
            abort(403)
        data = monthly.report(contract, period)
        name = f"monthly-{contract.id}-{period.first:%Y-%m}.{kind}"
        with db.atomic():
            audit.record("export", contract, summary=f"monthly report {period.label()} {kind}")
        if kind == "xlsx":
            body, mimetype = exports.xlsx(data), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body, mimetype = exports.csv_text(data).encode("utf-8"), "text/csv; charset=utf-8"
        return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})

    @expose("/weekly/<int:contract_id>", methods=("GET", "POST"))
    @guarded
    def weekly(self, contract_id):
        contract = self.contract(contract_id)
        period = periods.parse_week(request.values)
        if request.method == "POST":
            return self._confirm(contract, period)
        content = weekly.snapshot(contract, period)
        digest = weekly.checksum(content)
        latest = weekly.latest_confirmation(contract, period)
        diff = None
        if latest is not None and latest.checksum != digest:
            diff = weekly.difference(json.loads(latest.snapshot_json), content)
        return self.render("reports/weekly.html", contract=contract, period=period, content=content, digest=digest,
                           latest=latest, diff=diff, may_confirm=may("weekly_confirmations", "create"))

    def _confirm(self, contract, period):
        if not may("weekly_confirmations", "create"):
            abort(403)
        note = request.form.get("note", "")
        problem = text_problem(note, 2000, multiline=True)
        if problem:
            return self.bad(_("Note: %(problem)s", problem=problem), 422)
        try:
            weekly.confirm(contract, period, request.form.get("checksum", ""), current_user._get_current_object(), note)
        except ApiError as error:
            flash(error.message, "error")
        else:
            flash(_("The week's sheet is confirmed."), "success")
        return redirect(url_for(".weekly", contract_id=contract.id, week=period.first.isoformat()))

    @expose("/quarterly/<int:contract_id>")
    @guarded
    def quarterly(self, contract_id):
        contract = self.contract(contract_id)
        period = periods.parse_quarter(request.args)
        rows = submissions.inspections(contract, period)
        return self.render("reports/quarterly.html", contract=contract, period=period, inspections=rows,
                           forms_enabled=submissions.enabled(), inspection_day=submissions.inspection_day)

    @expose("/scorecard/<int:contract_id>")
    @guarded
    def scorecard(self, contract_id):
        contract = self.contract(contract_id)
        year = periods.parse_year(request.args)
        period = periods.year_period(year)
        card = scorecards.scorecard(contract, year)
        requirements = submissions.requirements(contract, period, utcnow())
        unassessed = submissions.unassessed_requirement_tickets(contract, period)
        return self.render("reports/scorecard.html", contract=contract, year=year, card=card,
                           requirements=requirements, unassessed=unassessed)

    @expose("/evidence/<int:contract_id>")
    @guarded
    def evidence(self, contract_id):
        contract = self.contract(contract_id)
        try:
            listing = evidence.listing(contract, request.args)
        except evidence.BadFilter as error:
            return self.bad(error.message)
        next_url = None
        if listing["more"]:
            args = request.args.to_dict()
            args["page"] = listing["page"] + 1
            next_url = url_for(".evidence", contract_id=contract.id, **args)
        return self.render("reports/evidence.html", contract=contract, listing=listing, next_url=next_url)


def admin_views():
    from flask_babel import lazy_gettext as _l

    return [
        ("dashboard", lambda: DashboardView(name=_l("Dashboard"), endpoint="dashboard", url="/admin/dashboard")),
        ("reports", lambda: ReportsView(name=_l("Reports"), category=_l("Reports"), endpoint="reports",
                                        url="/admin/reports")),
    ]
