"""Contract services the tickets and reports packages call: SLA targets, quota ledger, uptime.

Quota usage is a ledger (DESIGN §4): each consumption is a row; a period's usage is the sum of
its rows, so corrections are new rows and history is never rewritten.
"""

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from decimal import InvalidOperation

from peewee import fn

from portal import audit
from portal.accounts.models import utcnow
from portal.calendars.service import current_calendar
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Outage
from portal.contracts.models import Quota
from portal.contracts.models import QuotaUsage
from portal.contracts.models import SlaTarget
from portal.db import db
from portal.db import is_postgres
from portal.sla import Target


def sla_targets(contract):
    """Return ``{priority: {kind: Target}}`` for the contract's SLA rows."""
    table = {}
    for row in SlaTarget.select().where(SlaTarget.contract == contract).order_by(SlaTarget.priority, SlaTarget.kind):
        table.setdefault(row.priority, {})[row.kind] = Target(row.minutes, row.clock)
    return table


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year: the period starts on 1 March
        return date(day.year + years, 3, 1)


def _local_date(at):
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        return at.astimezone(current_calendar().tz).date()
    if isinstance(at, date):
        return at
    raise ValueError(f"at must be a date or datetime, got {type(at).__name__}")


def contract_year_bounds(contract, at):
    """Return (first day, last day) of the contract year containing *at* (a date or aware
    datetime); contract years run from start_date (2024-05-01..2025-04-30, …). A time before
    the start counts in the first year, after the end in the last one."""
    day = _local_date(at)
    start, end = contract.start_date, contract.end_date
    years = max(day.year - start.year + 1, 0)
    index = 0
    for candidate in range(years, -1, -1):
        if _add_years(start, candidate) <= day:
            index = candidate
            break
    while index > 0 and _add_years(start, index) > end:
        index -= 1
    first = _add_years(start, index)
    return first, min(_add_years(start, index + 1) - timedelta(days=1), max(end, first))


def period_bounds(contract, quota, at):
    """Return (first day, last day) of the quota period containing *at*."""
    if quota.period == "contract":
        return contract.start_date, contract.end_date
    return contract_year_bounds(contract, at)


def day_span_utc(first, last):
    """The UTC instants from local midnight of *first* to local midnight after *last*."""
    tz = current_calendar().tz
    low = datetime.combine(first, time(0), tzinfo=tz).astimezone(timezone.utc)
    high = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return low, high


def _used(quota, first, last):
    low, high = day_span_utc(first, last)
    total = (QuotaUsage.select(fn.SUM(QuotaUsage.amount))
             .where((QuotaUsage.quota == quota) & (QuotaUsage.at >= low) & (QuotaUsage.at < high)).scalar())
    return Decimal(str(total)) if total is not None else Decimal("0")


def _decimal(value, label):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{label} must be a number, got {value!r}") from None
    if not number.is_finite() or number <= 0 or number >= Decimal(10) ** 8:
        raise ValueError(f"{label} must be a positive number below 10^8, got {value!r}")
    return number


def consume_quota(contract, kind, amount, source_type, source_id, at=None, note="", item_size=None):
    """Record *amount* (in the quota's unit) against the contract's quota *kind*.

    Runs inside the caller's transaction (a savepoint here). Returns the QuotaUsage row, or
    None when the contract has no such quota. Going over the period's limit is allowed and
    flagged (``over_limit``). ``per_item_max`` caps one item: the checked value is
    ``item_size`` when given (e.g. person-days of one custom requirement on a count quota),
    else ``amount``; a larger item raises ValueError and nothing is written.
    """
    amount = _decimal(amount, "amount")
    size = _decimal(item_size, "item_size") if item_size is not None else None
    at = at or utcnow()
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise ValueError("at must be a timezone-aware datetime")
    query = Quota.select().where((Quota.contract == contract) & (Quota.kind == kind))
    if is_postgres():
        query = query.for_update()  # serialise concurrent consumers of one quota
    with db.atomic():
        quota = query.first()
        if quota is None:
            return None
        checked = size if size is not None else amount
        if quota.per_item_max is not None and checked > quota.per_item_max:
            raise ValueError(f"{kind}: one item may use at most {quota.per_item_max}, got {checked}")
        first, last = period_bounds(contract, quota, at)
        used = _used(quota, first, last) + amount
        usage = QuotaUsage.create(quota=quota, amount=amount, item_size=size, at=at, source_type=source_type,
                                  source_id=str(source_id), note=note, over_limit=used > quota.limit)
        audit.record("consume_quota", usage, summary=f"{contract.number} {kind} {amount}/{quota.limit}",
                     changes=audit.model_changes({}, audit.snapshot(usage)))
    return usage


def plain_number(value):
    """A quantity as JSON shows it: an int when whole, else a float."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def quota_status(contract, at=None):
    """Return each quota's current period, limit, used and remaining (negative when over)."""
    at = at or utcnow()
    items = []
    for quota in Quota.select().where(Quota.contract == contract).order_by(Quota.id):
        first, last = period_bounds(contract, quota, at)
        used = _used(quota, first, last)
        items.append({
            "id": quota.id, "kind": quota.kind, "period": quota.period,
            "period_start": first.isoformat(), "period_end": last.isoformat(),
            "limit": plain_number(quota.limit), "used": plain_number(used), "remaining": plain_number(quota.limit - used),
            "unit": quota.unit, "per_item_max": None if quota.per_item_max is None else plain_number(quota.per_item_max),
            "over_limit": used > quota.limit,
        })
    return items


def quota_burndown(contract, quota, at=None):
    """Return (period_start, period_end, [(date, remaining)]) for a burn-down chart."""
    at = at or utcnow()
    first, last = period_bounds(contract, quota, at)
    low, high = day_span_utc(first, last)
    usages = (QuotaUsage.select(QuotaUsage.amount, QuotaUsage.at)
              .where((QuotaUsage.quota == quota) & (QuotaUsage.at >= low) & (QuotaUsage.at < high))
              .order_by(QuotaUsage.at, QuotaUsage.id).tuples())
    return first, last, burndown_points(quota.limit, first, usages)


def burndown_points(limit, first, usages):
    """[(date, remaining)] from *limit* on day *first* down through (amount, at) *usages*, in order."""
    tz = current_calendar().tz
    remaining = Decimal(limit)
    points = [(first, plain_number(remaining))]
    for amount, at in usages:
        remaining -= amount
        points.append((at.astimezone(tz).date(), plain_number(remaining)))
    return points


def merged_minutes(spans):
    """Minutes covered by (start, end) *spans*, overlaps counted once."""
    total = 0.0
    current = None
    for low, high in sorted(spans):
        if current and low <= current[1]:
            current = (current[0], max(current[1], high))
            continue
        if current:
            total += (current[1] - current[0]).total_seconds() / 60
        current = (low, high)
    if current:
        total += (current[1] - current[0]).total_seconds() / 60
    return total


def uptime_period(contract, year, month=None, now=None):
    """Return the measured window [low, high) in UTC: the calendar month or year, clipped to
    the contract's service period and to *now*; None when nothing of it has elapsed."""
    tz = current_calendar().tz
    if month is None:
        first, after = date(year, 1, 1), date(year + 1, 1, 1)
    else:
        first = date(year, month, 1)
        after = date(year + (month == 12), month % 12 + 1, 1)
    low = datetime.combine(max(first, contract.start_date), time(0), tzinfo=tz).astimezone(timezone.utc)
    high = datetime.combine(min(after, contract.end_date + timedelta(days=1)), time(0), tzinfo=tz)
    high = min(high.astimezone(timezone.utc), (now or utcnow()).astimezone(timezone.utc))
    return (low, high) if high > low else None


def uptime(contract, year, month=None, now=None):
    """Uptime per covered system and overall for a year or one month.

    Uptime = 1 − downtime / measured time. Outages are clipped to the window, overlapping
    outages of one system count once, and open outages run until now (or the window's end).
    The overall figure is the mean over systems (equal windows, so downtime-weighted).
    """
    now = now or utcnow()
    window = uptime_period(contract, year, month, now)
    systems = list(CoveredSystem.select().where(CoveredSystem.contract == contract).order_by(CoveredSystem.id))
    spans = {system.id: [] for system in systems}
    if window:
        low, high = window
        outages = (Outage.select().join(CoveredSystem)
                   .where((CoveredSystem.contract == contract) & (Outage.started_at < high)
                          & (Outage.ended_at.is_null() | (Outage.ended_at > low))))
        for outage in outages:
            start = max(outage.started_at, low)
            end = min(outage.ended_at or now, high)
            if end > start:
                spans[outage.system_id].append((start, end))
    period_minutes = (window[1] - window[0]).total_seconds() / 60 if window else 0
    rows = []
    for system in systems:
        down = merged_minutes(spans[system.id])
        percent = round(100 * (1 - down / period_minutes), 3) if period_minutes else None
        rows.append({"system_id": system.id, "name": system.name, "class": system.system_class,
                     "downtime_minutes": round(down, 2), "uptime_percent": percent})
    measured = [row["uptime_percent"] for row in rows if row["uptime_percent"] is not None]
    overall = round(sum(measured) / len(measured), 3) if measured else None
    target = float(contract.uptime_target_percent)
    return {
        "year": year, "month": month, "period_minutes": round(period_minutes, 2),
        "period_start": window[0].isoformat() if window else None,
        "period_end": window[1].isoformat() if window else None,
        "systems": rows, "uptime_percent": overall, "target_percent": target,
        "met": None if overall is None else overall >= target,
    }
