"""Drill-down: the list of tickets or submissions behind a figure. The ticket lists apply the
same SQL conditions the figures count with (figures.FILTERS), so a number and its list agree."""

from flask_babel import gettext as _

from portal.accounts.models import utcnow
from portal.contracts.models import CoveredSystem
from portal.reports import figures
from portal.reports import periods
from portal.reports import submissions
from portal.tickets.models import Ticket

PAGE = 200
KINDS = ("tickets", "requirements", "inspections")


class BadFilter(ValueError):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def period_from(args):
    kind = args.get("period", "year")
    if kind == "year":
        return periods.year_period(periods.parse_year(args))
    if kind == "month":
        return periods.parse_month(args)
    if kind == "quarter":
        return periods.parse_quarter(args)
    if kind == "week":
        return periods.parse_week(args)
    raise BadFilter(_("period must be year, quarter, month or week."))


def listing(contract, args):
    """{kind, period, filter, value, rows, page, more} for the drill-down page."""
    try:
        period = period_from(args)
    except periods.BadParameter as error:
        raise BadFilter(error.message) from None
    kind = args.get("kind", "tickets")
    if kind not in KINDS:
        raise BadFilter(_("kind must be tickets, requirements or inspections."))
    try:
        page = periods.parse_int(args, "page", 1, 100_000, 1)
    except periods.BadParameter as error:
        raise BadFilter(error.message) from None
    result = {"kind": kind, "period": period, "filter": args.get("filter", "all"), "value": args.get("value", ""),
              "page": page, "more": False, "rows": []}
    now = utcnow()
    if kind == "requirements":
        result["rows"] = submissions.requirements(contract, period, now)
        return result
    if kind == "inspections":
        result["rows"] = submissions.inspections(contract, period)
        return result
    value = result["value"]
    if len(value) > 40:
        raise BadFilter(_("Unknown filter value."))
    try:
        condition = figures.filter_condition(result["filter"], value, now)
    except ValueError:
        raise BadFilter(_("Unknown filter or filter value.")) from None
    query = (figures.tickets(contract, period)
             .select(Ticket.id, Ticket.number, Ticket.title, Ticket.category, Ticket.priority, Ticket.status,
                     Ticket.reported_at, Ticket.response_due, Ticket.first_response_at, Ticket.resolve_due,
                     Ticket.resolved_at, Ticket.satisfaction, CoveredSystem.name.alias("system_name"),
                     figures.system_class().alias("system_class"),
                     figures.flag(figures.response_missed(now)).alias("late_response"),
                     figures.flag(figures.resolve_missed(now)).alias("late_resolve")))
    if condition is not None:
        query = query.where(condition)
    rows = list(query.order_by(Ticket.reported_at, Ticket.id).offset((page - 1) * PAGE).limit(PAGE + 1).dicts())
    result["rows"], result["more"] = rows[:PAGE], len(rows) > PAGE
    return result
