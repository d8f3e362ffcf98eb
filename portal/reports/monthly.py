"""The monthly service report (服务月报, seed 000: 每月月初提供服务月报，内容包含汇报月度的服务概要及明细).

Everything is read for ONE contract (the caller checked the viewer may see it), so a hospital's
report cannot contain another hospital's rows. Counts are GROUP BY queries; the detail list is
one query over the month's tickets with the system joined.
"""

from datetime import datetime
from datetime import timezone

from peewee import fn

from portal.accounts.models import utcnow
from portal.contracts import service as contracts
from portal.contracts.models import CoveredSystem
from portal.reports import figures
from portal.reports import submissions
from portal.tickets.models import Ticket

TIME_FIELDS = ("reported_at", "first_response_at", "resolved_at")


def _raw(field):
    """The column without peewee's per-row datetime parsing (strptime trials): parsed in _times."""
    return fn.COALESCE(field, None).coerce(False).alias(field.name)


def _utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _times(rows):
    for row in rows:
        for name in TIME_FIELDS:
            row[name] = _utc(row[name])
    return rows


DETAIL_FIELDS = (Ticket.id, Ticket.number, Ticket.title, Ticket.category, Ticket.priority, Ticket.status,
                 *(_raw(getattr(Ticket, name)) for name in TIME_FIELDS), Ticket.satisfaction,
                 Ticket.reporter_department, Ticket.root_cause, Ticket.resolution)


def _counts(query, key):
    return [
        {"key": value, "total": total, "resolved": int(resolved or 0), "missed": int(missed_count or 0)}
        for value, total, resolved, missed_count in query.tuples()
    ]


def grouped(contract, period, now, key, *extra):
    """Rows (key, total, resolved, missed) of the period's tickets grouped by *key*."""
    query = (figures.tickets(contract, period)
             .select(key, *extra, fn.COUNT(Ticket.id), fn.SUM(figures.flag(Ticket.status.in_(figures.RESOLVED))),
                     fn.SUM(figures.flag(figures.missed(now))))
             .group_by(key, *extra).order_by(key))
    return query


def _summary_columns(now):
    response, resolve = figures.response_missed(now), figures.resolve_missed(now)
    return (fn.COUNT(Ticket.id), fn.SUM(figures.flag(Ticket.status.in_(figures.RESOLVED))),
            fn.SUM(figures.flag(response)), fn.SUM(figures.flag(resolve)),
            fn.SUM(figures.flag(response | resolve)), fn.SUM(figures.flag(figures.has_deadline())),
            fn.COUNT(Ticket.satisfaction), fn.SUM(Ticket.satisfaction))


def _summary(row):
    total, resolved, late_response, late_resolve, late_any, with_sla, rated, rating_sum = (v or 0 for v in row)
    return {
        "total": total, "resolved": int(resolved), "open": total - int(resolved),
        "resolution_rate": round(int(resolved) / total, 4) if total else None,
        "response_missed": int(late_response), "resolve_missed": int(late_resolve), "missed": int(late_any),
        "with_sla": int(with_sla),
        "sla_compliance": round(1 - int(late_any) / int(with_sla), 4) if with_sla else None,
        "rated": rated, "satisfaction_mean": round(float(rating_sum) / rated, 2) if rated else None,
    }


def summary(contract, period, now):
    """Totals, resolution rate, SLA compliance and satisfaction of one contract's period."""
    return _summary(figures.tickets(contract, period).select(*_summary_columns(now)).tuples().get())


def summaries(contract_ids, period, now):
    """{contract id: summary} of several contracts in ONE grouped query (the dashboard's cards);
    a contract without tickets in the period gets the same zeros as ``summary``."""
    columns = _summary_columns(now)
    query = (Ticket.select(Ticket.contract, *columns)
             .where(figures.in_period_of(contract_ids, period)).group_by(Ticket.contract))
    found = {row[0]: row[1:] for row in query.tuples()}
    return {contract_id: _summary(found.get(contract_id, (0,) * len(columns))) for contract_id in contract_ids}


def by_priority(contract, period, now):
    response, resolve = figures.response_missed(now), figures.resolve_missed(now)
    query = (figures.tickets(contract, period)
             .select(Ticket.priority, fn.COUNT(Ticket.id), fn.SUM(figures.flag(Ticket.status.in_(figures.RESOLVED))),
                     fn.SUM(figures.flag(response)), fn.SUM(figures.flag(resolve)))
             .group_by(Ticket.priority).order_by(Ticket.priority))
    return [{"key": p, "total": t, "resolved": int(r or 0), "response_missed": int(a or 0),
             "resolve_missed": int(b or 0)} for p, t, r, a, b in query.tuples()]


def by_system(contract, period, now):
    query = (figures.tickets(contract, period)
             .select(Ticket.system, fn.COUNT(Ticket.id), fn.SUM(figures.flag(Ticket.status.in_(figures.RESOLVED))),
                     fn.SUM(figures.flag(figures.missed(now))))
             .group_by(Ticket.system))
    names = {s.id: (s.name, s.system_class) for s in CoveredSystem.select().where(CoveredSystem.contract == contract.id)}
    rows = []
    for system_id, total, resolved, missed_count in query.tuples():
        name, cls = names.get(system_id, ("", "other"))
        rows.append({"key": str(system_id) if system_id else "none", "name": name, "class": cls, "total": total,
                     "resolved": int(resolved or 0), "missed": int(missed_count or 0)})
    return sorted(rows, key=lambda r: (-r["total"], r["name"]))


def breaches(contract, period, now, limit=None):
    response, resolve = figures.response_missed(now), figures.resolve_missed(now)
    query = (figures.tickets(contract, period)
             .select(*DETAIL_FIELDS, CoveredSystem.name.alias("system_name"),
                     figures.flag(response).alias("late_response"), figures.flag(resolve).alias("late_resolve"))
             .where(response | resolve).order_by(Ticket.reported_at, Ticket.id))
    if limit:
        query = query.limit(limit)
    return _times(list(query.dicts()))


def detail(contract, period, limit=None):
    query = (figures.tickets(contract, period).select(*DETAIL_FIELDS, CoveredSystem.name.alias("system_name"))
             .order_by(Ticket.reported_at, Ticket.id))
    if limit:
        query = query.limit(limit)
    return _times(list(query.dicts()))


def requirements(contract, period, now):
    assessed = submissions.requirements(contract, period, now)
    unassessed = submissions.unassessed_requirement_tickets(contract, period)
    return {"assessed": assessed, "unassessed": unassessed}


def report(contract, period, now=None, detail_limit=None):
    """All the figures and lists of the monthly report of *contract* for *period*."""
    now = now or utcnow()
    return {
        "contract": contract, "period": period, "now": now,
        "summary": summary(contract, period, now),
        "by_category": _counts(grouped(contract, period, now, Ticket.category), "category"),
        "by_priority": by_priority(contract, period, now),
        "by_system": by_system(contract, period, now),
        "breaches": breaches(contract, period, now),
        "requirements": requirements(contract, period, now),
        "inspections": submissions.inspections(contract, period),
        "uptime": contracts.uptime(contract, period.first.year, period.first.month, now),
        "tickets": detail(contract, period, detail_limit),
    }
