"""The dashboard's contract cards, read for ALL shown contracts at once.

A card shows a contract's month and year summary, uptime, quota burn-down and upcoming
payments. Asking ``monthly.summary``, ``contracts.uptime`` and ``contracts.quota_burndown`` per
contract cost 8–10 statements a contract (125 for a vendor's twelve cards, bench/README.md);
here each kind of row is one statement for every card (``IN`` the shown contracts' ids), and
the per-contract figures are computed from those rows with the contracts package's own rules
(period bounds, uptime window, overlapping outages counted once). tests/reports checks that the
cards equal the per-contract functions.
"""

from collections import defaultdict
from datetime import timedelta

from portal.contracts import service as contracts
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Outage
from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota
from portal.contracts.models import QuotaUsage
from portal.reports import monthly
from portal.reports import periods
from portal.state import state

HORIZON_DAYS = 90  # how far ahead the dashboard shows payments and inspections
#: The year's summary aggregates every ticket of the shown contracts' year — 88 k tickets and
#: ~280 ms for the twelve cards of a vendor serving 100 hospitals at 1 M tickets, on the page
#: everyone lands on. The cards show it as of the last few minutes (the month's figures, cheap,
#: stay live).
YEAR_SUMMARY_SECONDS = 300


def uptimes(contracts_shown, year, now):
    """{contract id: {"uptime_percent", "target_percent", "met"}} for *year*, as ``contracts.uptime``
    computes them, from one query for the systems and one for the outages."""
    ids = [contract.id for contract in contracts_shown]
    windows = {contract.id: contracts.uptime_period(contract, year, None, now) for contract in contracts_shown}
    systems = defaultdict(list)
    contract_of = {}
    for system_id, contract_id in (CoveredSystem.select(CoveredSystem.id, CoveredSystem.contract)
                                   .where(CoveredSystem.contract.in_(ids)).tuples()):
        systems[contract_id].append(system_id)
        contract_of[system_id] = contract_id
    spans = defaultdict(list)
    measured = [window for window in windows.values() if window]
    if measured:
        low, high = min(w[0] for w in measured), max(w[1] for w in measured)
        outages = (Outage.select(Outage.system, Outage.started_at, Outage.ended_at).join(CoveredSystem)
                   .where(CoveredSystem.contract.in_(ids) & (Outage.started_at < high)
                          & (Outage.ended_at.is_null() | (Outage.ended_at > low))))
        for outage in outages:
            window = windows[contract_of[outage.system_id]]
            if not window:
                continue
            # Clipping to the contract's own window also drops outages outside it.
            start, end = max(outage.started_at, window[0]), min(outage.ended_at or now, window[1])
            if end > start:
                spans[outage.system_id].append((start, end))
    figures = {}
    for contract in contracts_shown:
        window = windows[contract.id]
        minutes = (window[1] - window[0]).total_seconds() / 60 if window else 0
        percents = [round(100 * (1 - contracts.merged_minutes(spans[system_id]) / minutes), 3)
                    for system_id in systems[contract.id]] if minutes else []
        overall = round(sum(percents) / len(percents), 3) if percents else None
        target = float(contract.uptime_target_percent)
        figures[contract.id] = {"uptime_percent": overall, "target_percent": target,
                                "met": None if overall is None else overall >= target}
    return figures


def burndowns(contracts_shown, now):
    """{contract id: [quota burn-down]} as ``contracts.quota_burndown`` draws them, from one query
    for the quotas and one for their usages in the current periods."""
    by_id = {contract.id: contract for contract in contracts_shown}
    quotas = list(Quota.select().where(Quota.contract.in_(list(by_id))).order_by(Quota.id))
    bounds, spans = {}, {}
    for quota in quotas:
        bounds[quota.id] = contracts.period_bounds(by_id[quota.contract_id], quota, now)
        spans[quota.id] = contracts.day_span_utc(*bounds[quota.id])
    usages = defaultdict(list)
    if quotas:
        low, high = min(s[0] for s in spans.values()), max(s[1] for s in spans.values())
        rows = (QuotaUsage.select(QuotaUsage.quota, QuotaUsage.amount, QuotaUsage.at)
                .where(QuotaUsage.quota.in_(list(spans)) & (QuotaUsage.at >= low) & (QuotaUsage.at < high))
                .order_by(QuotaUsage.at, QuotaUsage.id).tuples())
        for quota_id, amount, at in rows:
            if spans[quota_id][0] <= at < spans[quota_id][1]:
                usages[quota_id].append((amount, at))
    cards = defaultdict(list)
    for quota in quotas:
        first, last = bounds[quota.id]
        points = contracts.burndown_points(quota.limit, first, usages[quota.id])
        cards[quota.contract_id].append({"quota": quota, "first": first, "last": last, "points": points,
                                         "remaining": points[-1][1], "limit": float(quota.limit)})
    return cards


def payments(contract_ids, today):
    """{contract id: [unpaid installments due within the horizon]}, earliest first."""
    due = defaultdict(list)
    query = (PaymentInstallment.select()
             .where(PaymentInstallment.contract.in_(list(contract_ids)) & PaymentInstallment.paid_date.is_null()
                    & (PaymentInstallment.due_date <= today + timedelta(days=HORIZON_DAYS)))
             .order_by(PaymentInstallment.due_date, PaymentInstallment.id))
    for installment in query:
        due[installment.contract_id].append(installment)
    return due


def cards(contracts_shown, now, today):
    """One card per contract, in the given order: summaries, uptime, quotas and payments."""
    ids = [contract.id for contract in contracts_shown]
    if not ids:
        return []
    month = monthly.summaries(ids, periods.month_period(today.year, today.month), now)
    year = year_summaries(ids, today.year, now)
    uptime = uptimes(contracts_shown, today.year, now)
    quotas = burndowns(contracts_shown, now)
    due = payments(ids, today)
    return [{"contract": contract, "month": month[contract.id], "year": year[contract.id],
             "uptime": uptime[contract.id], "quotas": quotas[contract.id], "payments": due[contract.id]}
            for contract in contracts_shown]


def year_summaries(contract_ids, year, now):
    """``monthly.summaries`` of the year, kept per app for YEAR_SUMMARY_SECONDS per set of contracts."""
    kept = state().plugin_data.setdefault("reports.year_summaries", {})
    key = (tuple(contract_ids), year)
    hit = kept.get(key)
    if hit is not None and timedelta(0) <= now - hit[0] < timedelta(seconds=YEAR_SUMMARY_SECONDS):
        return hit[1]
    summaries = monthly.summaries(contract_ids, periods.year_period(year), now)
    # Drop expired sets so the dict stays as small as the active viewers. list() copies the items
    # in one step: other request threads may add a set while this loop runs.
    for old_key, (at, _) in list(kept.items()):
        if now - at >= timedelta(seconds=YEAR_SUMMARY_SECONDS):
            kept.pop(old_key, None)
    kept[key] = (now, summaries)
    return summaries
