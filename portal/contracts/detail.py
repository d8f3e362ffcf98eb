"""The contract overview page: systems, SLA table, quota remaining with a burn-down, payments,
and this year's uptime by month (server-side SVG, no JavaScript)."""

from datetime import datetime

from flask import abort
from flask_admin import BaseView
from flask_admin import expose
from flask_babel import lazy_gettext as _l

from portal.admin import AccessMixin
from portal.calendars.service import current_calendar
from portal.contracts import service
from portal.contracts.access import scoped_contracts
from portal.contracts.access import visible_contract
from portal.contracts.models import PRIORITIES
from portal.contracts.models import SLA_KINDS
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota

CHART_WIDTH, CHART_HEIGHT = 360, 120
QUOTA_KIND_LABELS = {
    "custom_requirement": _l("Custom requirements"),
    "emergency_rescue": _l("Emergency rescues"),
    "secondary_modification": _l("Secondary modifications"),
}


def burndown_chart(contract, quota, today):
    """Return the coordinates of a quota's burn-down chart (ideal line, remaining steps, today)."""
    first, last, points = service.quota_burndown(contract, quota)
    span = max((last - first).days + 1, 1)
    limit = float(quota.limit)
    low = min([0.0] + [value for _, value in points])
    high = max(limit, 1.0)

    def x(day):
        return round(CHART_WIDTH * min(max((day - first).days, 0), span) / span, 1)

    def y(value):
        return round(CHART_HEIGHT * (high - value) / (high - low), 1)

    steps = [(x(first), y(points[0][1]))]
    for day, value in points[1:]:
        steps.append((x(day), steps[-1][1]))
        steps.append((x(day), y(value)))
    steps.append((x(min(today, last)), steps[-1][1]))
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "first": first, "last": last,
        "ideal": ((0, y(limit)), (CHART_WIDTH, y(0))), "zero_y": y(0),
        "steps": " ".join(f"{a},{b}" for a, b in steps), "today_x": x(min(max(today, first), last)),
        "remaining": points[-1][1],
    }


class ContractDetailView(AccessMixin, BaseView):
    resource = "contracts"

    @expose("/")
    def index(self):
        contracts = list(scoped_contracts().order_by(Contract.start_date.desc()).limit(200))
        return self.render("contracts/index.html", contracts=contracts)

    @expose("/<int:contract_id>")
    def detail(self, contract_id):
        contract = visible_contract(contract_id)
        if contract is None:
            abort(404)
        calendar = current_calendar()
        now = datetime.now(calendar.tz)
        year = now.year
        sla = service.sla_targets(contract)
        quotas = service.quota_status(contract)
        charts = {q.id: burndown_chart(contract, q, now.date())
                  for q in Quota.select().where(Quota.contract == contract)}
        months = [(month, service.uptime(contract, year, month)) for month in range(1, 13)]
        return self.render(
            "contracts/detail.html", contract=contract, sla=sla, priorities=PRIORITIES, sla_kinds=SLA_KINDS,
            systems=list(CoveredSystem.select().where(CoveredSystem.contract == contract).order_by(CoveredSystem.id)),
            quotas=quotas, charts=charts, kind_labels=QUOTA_KIND_LABELS, year=year, months=months,
            year_uptime=service.uptime(contract, year), today=now.date(),
            payments=list(PaymentInstallment.select().where(PaymentInstallment.contract == contract)
                          .order_by(PaymentInstallment.due_date)),
        )
