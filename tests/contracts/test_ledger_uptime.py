"""Quota ledger (periods, overage, per-item cap) and uptime arithmetic."""

from datetime import date
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.contracts import service
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Outage
from portal.contracts.models import QuotaUsage
from portal.sla import Target

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def test_contract_years(app, contract_id):
    with app.app_context():
        contract = Contract.get_by_id(contract_id)
        assert service.contract_year_bounds(contract, date(2024, 5, 1)) == (date(2024, 5, 1), date(2025, 4, 30))
        assert service.contract_year_bounds(contract, date(2025, 4, 30)) == (date(2024, 5, 1), date(2025, 4, 30))
        assert service.contract_year_bounds(contract, date(2025, 5, 1)) == (date(2025, 5, 1), date(2026, 4, 30))
        # 2026-04-30 23:30 in Shanghai is still the second year, though it is 15:30 UTC.
        assert service.contract_year_bounds(contract, at(2026, 5, 1, 0, 30))[0] == date(2026, 5, 1)
        assert service.contract_year_bounds(contract, at(2026, 4, 30, 23, 30))[0] == date(2025, 5, 1)
        assert service.contract_year_bounds(contract, date(2030, 1, 1)) == (date(2026, 5, 1), date(2027, 4, 30))
        assert service.contract_year_bounds(contract, date(2020, 1, 1)) == (date(2024, 5, 1), date(2025, 4, 30))


def test_sla_targets_as_targets(app, contract_id):
    with app.app_context():
        targets = service.sla_targets(Contract.get_by_id(contract_id))
        assert targets["P1"]["response"] == Target(30, "24x7")
        assert targets["P3"] == {"resolve": Target(1620, "business")}


def test_ledger_per_year_overage_and_item_cap(app, client, manager_headers, contract_id):
    with app.app_context():
        contract = Contract.get_by_id(contract_id)
        rows = [service.consume_quota(contract, "emergency_rescue", 1, "ticket", str(n), at=at(2024, 6, n + 1))
                for n in range(5)]
        assert [row.over_limit for row in rows] == [False, False, False, False, True]
        # A new contract year starts from zero.
        fresh = service.consume_quota(contract, "emergency_rescue", 1, "ticket", "99", at=at(2025, 5, 1, 9))
        assert fresh.over_limit is False
        status = {s["kind"]: s for s in service.quota_status(contract, at=at(2024, 12, 1))}
        assert status["emergency_rescue"]["used"] == 5 and status["emergency_rescue"]["remaining"] == -1
        assert status["emergency_rescue"]["period_start"] == "2024-05-01"
        assert status["emergency_rescue"]["over_limit"] is True
        # per_item_max: one custom requirement may be at most 3 person-days.
        with pytest.raises(ValueError):
            service.consume_quota(contract, "custom_requirement", 1, "ticket", "7", item_size=3.5, at=at(2024, 6, 1))
        with pytest.raises(ValueError):
            service.consume_quota(contract, "custom_requirement", 4, "ticket", "7", at=at(2024, 6, 1))
        ok = service.consume_quota(contract, "custom_requirement", 1, "ticket", "8", item_size=3, at=at(2024, 6, 1))
        assert ok.item_size == 3 and ok.amount == 1
        with pytest.raises(ValueError):
            service.consume_quota(contract, "secondary_modification", -2, "ticket", "9")
        assert service.consume_quota(contract, "no_such_quota", 1, "ticket", "1") is None
        # The contract-period quota sums across years.
        service.consume_quota(contract, "secondary_modification", 10, "ticket", "a", at=at(2024, 7, 1))
        last = service.consume_quota(contract, "secondary_modification", 5.5, "ticket", "b", at=at(2026, 7, 1))
        assert last.over_limit is True
        assert QuotaUsage.select().count() == 9
    body = client.get(f"/api/v1/contracts/{contract_id}/quotas", headers=manager_headers).get_json()
    item = {i["kind"]: i for i in body["items"]}["secondary_modification"]
    assert (item["limit"], item["used"], item["remaining"], item["unit"]) == (15, 15.5, -0.5, "person_days")
    assert set(item) >= {"kind", "period_start", "period_end", "limit", "used", "remaining", "unit"}


def test_consumption_rolls_back_with_the_callers_transaction(app, contract_id):
    with app.app_context():
        contract = Contract.get_by_id(contract_id)
        with pytest.raises(RuntimeError):
            with service.db.atomic():
                service.consume_quota(contract, "emergency_rescue", 1, "ticket", "1")
                raise RuntimeError("caller failed")
        assert QuotaUsage.select().count() == 0


def test_uptime_clips_outages_and_counts_open_ones(app, client, manager_headers, contract_id):
    with app.app_context():
        contract = Contract.get_by_id(contract_id)
        his, cis, other = CoveredSystem.select().where(CoveredSystem.contract == contract).order_by(CoveredSystem.id)
        # 2 h across the end of February 2025: 1 h in February, 1 h in March.
        Outage.create(system=his, started_at=at(2025, 2, 28, 23), ended_at=at(2025, 3, 1, 1), cause="锁表")
        # Overlapping records of one outage count once (90 min in March).
        Outage.create(system=cis, started_at=at(2025, 3, 10, 9), ended_at=at(2025, 3, 10, 10), cause="a")
        Outage.create(system=cis, started_at=at(2025, 3, 10, 9, 30), ended_at=at(2025, 3, 10, 10, 30), cause="b")
        # Still open: counts until now, or to the period's end.
        Outage.create(system=other, started_at=at(2025, 3, 31, 23), ended_at=None, cause="证书过期")
        march = service.uptime(contract, 2025, 3, now=at(2025, 4, 1, 6))
        minutes = 31 * 24 * 60
        rows = {r["system_id"]: r for r in march["systems"]}
        assert rows[his.id]["downtime_minutes"] == 60
        assert rows[cis.id]["downtime_minutes"] == 90
        assert rows[other.id]["downtime_minutes"] == 60
        assert rows[his.id]["uptime_percent"] == round(100 * (1 - 60 / minutes), 3)
        assert march["period_minutes"] == minutes
        april_so_far = service.uptime(contract, 2025, 4, now=at(2025, 4, 1, 6))
        assert {r["system_id"]: r["downtime_minutes"] for r in april_so_far["systems"]}[other.id] == 360
        assert april_so_far["period_minutes"] == 360
        assert {r["system_id"]: r["uptime_percent"] for r in april_so_far["systems"]}[other.id] == 0
        # Before the contract starts nothing is measured; the first year starts on 1 May.
        assert service.uptime(contract, 2024, 4, now=at(2025, 1, 1))["uptime_percent"] is None
        assert service.uptime(contract, 2024, now=at(2025, 1, 1))["period_start"] == "2024-04-30T16:00:00+00:00"
    body = client.get(f"/api/v1/contracts/{contract_id}/uptime?year=2025&month=2", headers=manager_headers).get_json()
    assert set(body) >= {"systems", "uptime_percent"}
    assert {r["name"]: r["downtime_minutes"] for r in body["systems"]}["门急诊收费系统"] == 60
    for query in ("", "year=abc", "year=2025&month=13", "year=2025&month=0"):
        assert client.get(f"/api/v1/contracts/{contract_id}/uptime?{query}", headers=manager_headers).status_code == 400


def test_uptime_year_against_target(app, contract_id):
    with app.app_context():
        contract = Contract.get_by_id(contract_id)
        system = CoveredSystem.select().where(CoveredSystem.contract == contract).first()
        start = at(2025, 6, 1)
        Outage.create(system=system, started_at=start, ended_at=start + timedelta(days=10))
        result = service.uptime(contract, 2025, now=at(2026, 1, 1))
        row = [r for r in result["systems"] if r["system_id"] == system.id][0]
        assert row["uptime_percent"] == round(100 * (1 - 10 / 365), 3)
        assert result["target_percent"] == 98.0 and result["met"] is True
