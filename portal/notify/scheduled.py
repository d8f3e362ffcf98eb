"""Periodic work: inspections before long holidays and each quarter, report announcements,
contract expiry, payments due and quota thresholds. Each run may repeat (hourly, after a
restart, on several workers): a Reminder row per key makes every announcement happen once.
"""

from datetime import date
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from peewee import IntegrityError

from portal.accounts.models import utcnow
from portal.db import db
from portal.notify.models import Reminder
from portal.notify.recipients import calendar
from portal.notify.recipients import dispatch
from portal.notify.recipients import hospital_it
from portal.notify.recipients import vendor_staff
from portal.notify.reports import period_summary
from portal.notify.outbox import setting


def _contracts(first, last=None):
    """Contracts in force on some day of [first, last]."""
    from portal.contracts.models import Contract

    last = last or first
    return list(Contract.select().where((Contract.start_date <= last) & (Contract.end_date >= first))
                .order_by(Contract.id))


def _contract_people(contract, engineers=False):
    users = hospital_it(contract.hospital_id) + vendor_staff(contract.vendor_id, ("manager",))
    if engineers:
        users += vendor_staff(contract.vendor_id, ("engineer",))
    return users


def announce(kind, key, contract, due_date, title, body, event, engineers=False, now=None):
    """Create the reminder *key* once and notify the contract's people; False if it existed."""
    with db.atomic():
        inserted = db.execute(Reminder.insert(
            key=key, kind=kind, contract_id=contract.id, hospital=contract.hospital_id, vendor=contract.vendor_id,
            due_date=due_date, title=str(title)[:300], body=str(body), created_at=now or utcnow(),
        ).on_conflict_ignore())
        if db.rows_affected(inserted) != 1:
            return False

        def message():
            return {"title": title, "body": body, "url": f"/admin/contract/{contract.id}",
                    "object": {"type": "contract", "id": contract.id, "number": contract.number},
                    "due_date": due_date.isoformat(), "reminder": key}

        dispatch(event, contract, _contract_people(contract, engineers), message, f"reminder:{key}", now=now)
    return True


def _today(now):
    return (now or utcnow()).astimezone(calendar().tz).date()


def preholiday_inspections(now=None):
    """An inspection before every statutory holiday block longer than 3 days, due the last working
    day before it (seed 001), announced NOTIFY_INSPECTION_LEAD_DAYS before. Returns keys created."""
    cal, today = calendar(), _today(now)
    lead = int(setting("NOTIFY_INSPECTION_LEAD_DAYS"))
    created = []
    for year in sorted({today.year, (today + timedelta(days=lead)).year}):
        for day, block in cal.pre_holiday_inspections(year, longer_than=3):
            if not today <= day <= today + timedelta(days=lead):
                continue
            for contract in _contracts(day):
                key = f"preholiday:{day.isoformat()}:contract:{contract.id}"
                title = _("Pre-holiday inspection due %(day)s (%(holiday)s, %(n)d days off)", day=day.isoformat(),
                          holiday=block.name, n=block.days)
                body = _("Contract %(number)s: inspect the systems before %(first)s.", number=contract.number,
                         first=block.first.isoformat())
                if announce("inspection_preholiday", key, contract, day, title, body, "inspection_due",
                            engineers=True, now=now):
                    created.append(key)
    return created


def _quarter_day(cal, year, quarter):
    first = date(year, 3 * quarter - 2, 1)
    return first if cal.is_working_day(first) else cal.next_working_day(first)


def quarterly_inspections(now=None):
    """The quarterly inspection, due the first working day of each quarter."""
    cal, today = calendar(), _today(now)
    lead = int(setting("NOTIFY_INSPECTION_LEAD_DAYS"))
    created = []
    quarter = (today.month - 1) // 3 + 1
    candidates = [(today.year, quarter), (today.year + (quarter == 4), quarter % 4 + 1)]
    for year, q in candidates:
        day = _quarter_day(cal, year, q)
        if not today <= day <= today + timedelta(days=lead):
            continue
        for contract in _contracts(day):
            key = f"quarterly:{year}Q{q}:contract:{contract.id}"
            title = _("Quarterly inspection %(year)sQ%(q)s due %(day)s", year=year, q=q, day=day.isoformat())
            body = _("Contract %(number)s: the quarterly inspection and its report.", number=contract.number)
            if announce("inspection_quarterly", key, contract, day, title, body, "inspection_due", engineers=True,
                        now=now):
                created.append(key)
    return created


def _summary_text(counts):
    from portal.tickets.workflow import STATUS_LABELS

    if not counts:
        return _("No tickets in this period.")
    return "; ".join(f"{STATUS_LABELS.get(status, status)}: {n}" for status, n in sorted(counts.items()))


def report_announcements(now=None):
    """The monthly service report on the 1st (seed 000) and the weekly confirmation sheet on
    Mondays (seed 001), each with the period's ticket counts (caught up within 3 days)."""
    cal, today = calendar(), _today(now)
    created = []
    if today.day <= 3:
        last = today.replace(day=1) - timedelta(days=1)
        first = last.replace(day=1)
        for contract in _contracts(first, last):
            key = f"report:monthly:{first:%Y-%m}:contract:{contract.id}"
            title = _("Monthly service report %(month)s is due", month=f"{first:%Y-%m}")
            body = _summary_text(period_summary(contract, first, last, cal.tz))
            if announce("report_monthly", key, contract, today.replace(day=1), title, body, "report_due", now=now):
                created.append(key)
    if today.weekday() <= 2:
        monday = today - timedelta(days=today.weekday())
        first, last = monday - timedelta(days=7), monday - timedelta(days=1)
        iso_year, week, _day = first.isocalendar()
        for contract in _contracts(first, last):
            key = f"report:weekly:{iso_year}-W{week:02d}:contract:{contract.id}"
            title = _("Weekly confirmation sheet %(year)s-W%(week)02d is due", year=iso_year, week=week)
            body = _summary_text(period_summary(contract, first, last, cal.tz))
            if announce("report_weekly", key, contract, monday, title, body, "report_due", now=now):
                created.append(key)
    return created


def _lead(days_left, leads):
    """The smallest configured lead (days) that *days_left* falls within, or None."""
    fitting = [lead for lead in leads if 0 <= days_left <= lead]
    return min(fitting) if fitting else None


def contract_reminders(now=None):
    """Contract expiry (NOTIFY_CONTRACT_EXPIRY_DAYS before the end) and unpaid installments
    (NOTIFY_PAYMENT_DUE_DAYS before the due date); one announcement per threshold."""
    from portal.contracts.models import Contract
    from portal.contracts.models import PaymentInstallment

    today = _today(now)
    created = []
    expiry = [int(n) for n in setting("NOTIFY_CONTRACT_EXPIRY_DAYS")]
    for contract in Contract.select().where((Contract.end_date >= today)
                                            & (Contract.end_date <= today + timedelta(days=max(expiry, default=0)))):
        lead = _lead((contract.end_date - today).days, expiry)
        if lead is None:
            continue
        key = f"contract-expiry:{contract.id}:{contract.end_date.isoformat()}:{lead}"
        title = _("Contract %(number)s ends on %(day)s", number=contract.number, day=contract.end_date.isoformat())
        body = _("%(days)d days left: %(title)s", days=(contract.end_date - today).days, title=contract.title)
        if announce("contract_expiry", key, contract, contract.end_date, title, body, "contract_expiry", now=now):
            created.append(key)
    payment = [int(n) for n in setting("NOTIFY_PAYMENT_DUE_DAYS")]
    due = (PaymentInstallment.select(PaymentInstallment, Contract).join(Contract)
           .where(PaymentInstallment.paid_date.is_null() & (PaymentInstallment.due_date >= today)
                  & (PaymentInstallment.due_date <= today + timedelta(days=max(payment, default=0)))))
    for installment in due:
        lead = _lead((installment.due_date - today).days, payment)
        if lead is None:
            continue
        contract = installment.contract
        key = f"payment:{installment.id}:{installment.due_date.isoformat()}:{lead}"
        title = _("Payment of %(amount)s due on %(day)s", amount=installment.amount,
                  day=installment.due_date.isoformat())
        body = _("Contract %(number)s: %(title)s", number=contract.number, title=contract.title)
        if announce("payment_due", key, contract, installment.due_date, title, body, "payment_due", now=now):
            created.append(key)
    return created


def quota_reminders(now=None):
    """A quota reaching 80% and 100% of its period's limit: announced once per period and level."""
    from portal.contracts.models import Quota
    from portal.contracts.service import quota_status

    now = now or utcnow()
    today = _today(now)
    created = []
    contracts = {c.id: c for c in _contracts(today)}
    with_quotas = {row.contract_id for row in Quota.select(Quota.contract).where(Quota.contract.in_(list(contracts)))}
    for contract_id in sorted(with_quotas):
        contract = contracts[contract_id]
        for item in quota_status(contract, at=now):
            limit = Decimal(str(item["limit"]))
            if limit <= 0:
                continue
            ratio = Decimal(str(item["used"])) / limit
            level = 100 if ratio >= 1 else 80 if ratio >= Decimal("0.8") else None
            if level is None:
                continue
            key = f"quota:{item['id']}:{item['period_start']}:{level}"
            title = _("Quota %(kind)s at %(level)d%%: %(used)s of %(limit)s used", kind=item["kind"], level=level,
                      used=item["used"], limit=item["limit"])
            body = _("Contract %(number)s, period %(first)s – %(last)s.", number=contract.number,
                     first=item["period_start"], last=item["period_end"])
            if announce("quota", key, contract, date.fromisoformat(item["period_end"]), title, body,
                        "quota_threshold", now=now):
                created.append(key)
    return created


def daily(now=None):
    """Everything date-driven, in one idempotent pass (scheduled hourly)."""
    created = []
    for job in (preholiday_inspections, quarterly_inspections, report_announcements, contract_reminders,
                quota_reminders):
        try:
            created += job(now)
        except IntegrityError:  # a concurrent worker created the same reminder first: it is done
            continue
    return created
