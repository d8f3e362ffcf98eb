"""Periodic work with a controlled clock: pre-holiday and quarterly inspections, report
announcements, contract expiry, payments and quota thresholds — each exactly once."""

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import Decimal

from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota
from portal.contracts.service import consume_quota
from portal.db import db
from portal.notify import scheduled
from portal.notify.models import Notification
from portal.notify.models import Reminder
from tests.tickets.conftest import SH


def at(day, hour=9):
    return datetime.combine(day, time(hour), tzinfo=SH)


def run_every_day(app, job, first, last):
    """Run *job* once per day (09:00 Shanghai) from *first* to *last*; return {key: run day}."""
    created = {}
    day = first
    with app.app_context():
        while day <= last:
            for key in job(now=at(day)):
                created[key] = day
            day += timedelta(days=1)
        db.close()
    return created


def test_preholiday_inspections_2026_on_the_last_working_day_before_long_holidays(app, contract, users):
    app.config["NOTIFY_INSPECTION_LEAD_DAYS"] = 0
    created = run_every_day(app, scheduled.preholiday_inspections, date(2026, 1, 1), date(2026, 12, 31))
    due = sorted(Reminder.select().where(Reminder.kind == "inspection_preholiday"), key=lambda r: r.due_date)
    # 春节 (15–23 Feb), 劳动节 (1–5 May), 国庆/中秋 (1–7 Oct); 元旦, 清明 and 端午 are 3 days.
    assert [r.due_date for r in due] == [date(2026, 2, 14), date(2026, 4, 30), date(2026, 9, 30)]
    assert created == {f"preholiday:{d}:contract:{contract.id}": date.fromisoformat(d)
                       for d in ("2026-02-14", "2026-04-30", "2026-09-30")}
    assert "春节" in due[0].title and "国庆" in due[2].title
    people = {n.recipient_id for n in Notification.select().where(Notification.event == "inspection_due")}
    assert people == {users["engineer"].id, users["manager"].id, users["hospital_it"].id}
    again = run_every_day(app, scheduled.preholiday_inspections, date(2026, 1, 1), date(2026, 12, 31))
    assert again == {}


def test_preholiday_reminder_is_announced_lead_days_before(app, contract, users):
    app.config["NOTIFY_INSPECTION_LEAD_DAYS"] = 3
    created = run_every_day(app, scheduled.preholiday_inspections, date(2026, 9, 1), date(2026, 10, 31))
    assert created == {f"preholiday:2026-09-30:contract:{contract.id}": date(2026, 9, 27)}


def test_quarterly_inspections_due_on_the_first_working_day(app, contract, users):
    app.config["NOTIFY_INSPECTION_LEAD_DAYS"] = 0
    created = run_every_day(app, scheduled.quarterly_inspections, date(2026, 1, 1), date(2026, 12, 31))
    # 4 Jan 2026 is a Sunday worked for 元旦 (调休); 1–7 Oct are off, so 8 Oct.
    assert sorted(created.values()) == [date(2026, 1, 4), date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 8)]


def test_monthly_report_on_the_first_and_weekly_sheet_on_mondays(app, contract, users):
    from tests.notify.test_events import _create

    _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 10, 0, tzinfo=SH))
    _create(app, contract, users["hospital_it"], datetime(2026, 3, 11, 10, 0, tzinfo=SH))
    created = run_every_day(app, scheduled.report_announcements, date(2026, 3, 1), date(2026, 4, 3))
    monthly = {k: d for k, d in created.items() if ":monthly:" in k}
    weekly = {k: d for k, d in created.items() if ":weekly:" in k}
    assert monthly == {f"report:monthly:2026-02:contract:{contract.id}": date(2026, 3, 1),
                       f"report:monthly:2026-03:contract:{contract.id}": date(2026, 4, 1)}
    assert sorted(weekly.values()) == [date(2026, 3, d) for d in (2, 9, 16, 23, 30)]
    march = Reminder.get(Reminder.key == f"report:monthly:2026-03:contract:{contract.id}")
    assert march.body == "新: 2"
    week = Reminder.get(Reminder.key == f"report:weekly:2026-W11:contract:{contract.id}")
    assert week.body == "新: 2" and week.due_date == date(2026, 3, 16)


def test_contract_expiry_and_payment_reminders_once_per_threshold(app, contract, users):
    PaymentInstallment.create(contract=contract, due_date=date(2027, 1, 15), amount=Decimal("120000"))
    PaymentInstallment.create(contract=contract, due_date=date(2027, 1, 20), amount=Decimal("5"),
                              paid_date=date(2027, 1, 2))
    created = run_every_day(app, scheduled.contract_reminders, date(2026, 12, 1), date(2027, 4, 30))
    # The contract ends 2027-04-30: 90, 30 and 7 days before; the unpaid installment 30, 7, 0 days before.
    assert created == {
        f"contract-expiry:{contract.id}:2027-04-30:90": date(2027, 1, 30),
        f"contract-expiry:{contract.id}:2027-04-30:30": date(2027, 3, 31),
        f"contract-expiry:{contract.id}:2027-04-30:7": date(2027, 4, 23),
        "payment:1:2027-01-15:30": date(2026, 12, 16),
        "payment:1:2027-01-15:7": date(2027, 1, 8),
        "payment:1:2027-01-15:0": date(2027, 1, 15),
    }


def test_quota_at_80_and_100_percent(app, contract, users):
    Quota.create(contract=contract, kind="emergency_rescue", period="year", limit=Decimal("4"))
    now = at(date(2026, 6, 1))
    with app.app_context():
        announced = []
        for n in range(1, 6):  # 4 per year: 3 used is 75%, 4 is 100%, 5 is over (no new announcement)
            consume_quota(contract, "emergency_rescue", 1, "ticket", n, at=now)
            announced.append([key.rsplit(":", 1)[1] for key in scheduled.quota_reminders(now=now)])
        db.close()
    assert announced == [[], [], [], ["100"], []]
    Quota.create(contract=contract, kind="custom_requirement", period="year", limit=Decimal("10"))
    with app.app_context():
        for n in range(1, 9):
            consume_quota(contract, "custom_requirement", 1, "req", n, at=now)
        assert [key.rsplit(":", 1)[1] for key in scheduled.quota_reminders(now=now)] == ["80"]
        assert scheduled.quota_reminders(now=now) == []
        db.close()
    titles = [n.payload["title"] for n in Notification.select().where(Notification.event == "quota_threshold")]
    assert any("100%" in t for t in titles)
