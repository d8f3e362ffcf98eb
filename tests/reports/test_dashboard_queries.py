"""The dashboard runs a fixed number of statements however many hospitals, contracts and tickets
the viewer sees (no per-contract queries), and its contract cards show the very figures the
per-contract functions compute (monthly.summary, contracts.uptime, contracts.quota_burndown)."""

import itertools
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest

from bench.querycount import count_queries
from portal.accounts.models import Organization
from portal.accounts.models import utcnow
from portal.contracts import service as contracts
from portal.contracts.models import Outage
from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota
from portal.contracts.models import QuotaUsage
from portal.reports import cards
from portal.reports import dashboard
from portal.reports import monthly
from portal.reports import periods
from tests.conftest import log_in
from tests.reports.conftest import SH
from tests.reports.conftest import make_contract
from tests.reports.conftest import make_ticket

BOUND = 15
_hospital_numbers = itertools.count()


def _furnish(contract, systems, now, start=None):
    """Tickets, quotas with usage, overlapping outages and payments for one contract."""
    if start is not None:
        contract.start_date = start
        contract.save()
    hour = timedelta(hours=1)
    make_ticket(contract, systems["HIS"], priority="P1", reported_at=now - 2 * hour, response_due=now - hour,
                resolve_due=now + hour)
    make_ticket(contract, systems["CIS"], status="resolved", reported_at=now - 3 * hour, resolved_at=now - hour,
                resolve_due=now - 2 * hour, satisfaction=4)
    make_ticket(contract, None, status="waiting_authorization", category="requirement", reported_at=now - 40 * 24 * hour)
    make_ticket(contract, systems["other"], status="closed", reported_at=now - 400 * 24 * hour,
                closed_at=now - 399 * 24 * hour)
    yearly = Quota.create(contract=contract, kind="emergency_rescue", period="year", limit=4)
    whole = Quota.create(contract=contract, kind="custom_requirement", period="contract", limit=20,
                         unit="person_days")
    # 330 days ago lies before the current contract year of most contracts; 500 days before the
    # start of the contracts that began this year.
    usages = ((2, yearly, 1), (30, yearly, 2), (200, yearly, 1), (330, yearly, 1), (500, whole, 3), (5, whole, 1.5))
    for days, quota, amount in usages:
        QuotaUsage.create(quota=quota, amount=amount, at=now - timedelta(days=days), source_type="ticket")
    Outage.create(system=systems["HIS"], started_at=now - 10 * hour, ended_at=now - 6 * hour)
    Outage.create(system=systems["HIS"], started_at=now - 8 * hour, ended_at=now - 2 * hour)  # overlaps
    Outage.create(system=systems["CIS"], started_at=now - 30 * 24 * hour)  # still open
    Outage.create(system=systems["other"], started_at=now - 800 * 24 * hour, ended_at=now - 700 * 24 * hour)
    new_year = datetime(now.astimezone(SH).year, 1, 1, tzinfo=SH)  # clipped to the year (or the contract)
    Outage.create(system=systems["other"], started_at=new_year - 5 * 24 * hour, ended_at=new_year + 40 * 24 * hour)
    today = now.astimezone(SH).date()
    PaymentInstallment.create(contract=contract, due_date=today + timedelta(days=20), amount=1000)
    PaymentInstallment.create(contract=contract, due_date=today - timedelta(days=3), amount=500)  # overdue
    PaymentInstallment.create(contract=contract, due_date=today + timedelta(days=200), amount=700)  # beyond horizon
    PaymentInstallment.create(contract=contract, due_date=today, amount=900, paid_date=today)


def _hospitals_with_contracts(vendor, count, now):
    made = []
    for index in (next(_hospital_numbers) for _ in range(count)):
        hospital = Organization.create(name=f"第{index + 1}人民医院", kind="hospital")
        contract, systems = make_contract(hospital, vendor, number=f"WB-Q-{index:03d}")
        # Different contract years, some starting this year: quota periods and uptime windows
        # differ between the contracts read together.
        start = date(2024, 1 + index % 12, 1 + index % 28) if index % 3 else utcnow().date() - timedelta(days=60)
        _furnish(contract, systems, now, start=start)
        made.append(contract)
    return made


def _statements(client):
    """The statements of one dashboard request, after one that loads the per-app calendar cache."""
    client.get("/admin/dashboard/")
    with count_queries() as log:
        response = client.get("/admin/dashboard/")
    assert response.status_code == 200
    return [sql for sql, _ in log if sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))]


def test_dashboard_statements_do_not_grow_with_hospitals_contracts_or_tickets(app, vendor, make_user):
    now = utcnow()
    manager = app.test_client()
    log_in(manager, make_user("manager").username)
    contracts_made = _hospitals_with_contracts(vendor, 2, now)
    small = _statements(manager)
    html = manager.get("/admin/dashboard/").get_data(as_text=True)
    assert all(f'id="contract-{c.id}"' in html for c in contracts_made)

    contracts_made += _hospitals_with_contracts(vendor, 4, now)
    for contract in contracts_made:
        for hours in range(5):
            make_ticket(contract, None, reported_at=now - timedelta(hours=hours + 5))
    large = _statements(manager)
    html = manager.get("/admin/dashboard/").get_data(as_text=True)
    assert all(f'id="contract-{c.id}"' in html for c in contracts_made)
    assert len(large) == len(small) <= BOUND, large


@pytest.mark.parametrize("role", ["admin", "manager", "engineer", "hospital_it", "reporter"])
def test_dashboard_statement_bound_per_role(app, vendor, hospital, make_user, department, role):
    now = utcnow()
    ours, systems = make_contract(hospital, vendor)
    _furnish(ours, systems, now)
    _hospitals_with_contracts(vendor, 3, now)
    user = make_user(role, department=department) if role == "reporter" else make_user(role)
    client = app.test_client()
    log_in(client, user.username)
    statements = _statements(client)
    assert len(statements) <= BOUND, statements
    html = client.get("/admin/dashboard/").get_data(as_text=True)
    cards_shown = html.count('class="card dash-card contract-card"')
    # Scoping is unchanged: the hospital sees its one contract, the vendor and admin all four.
    assert cards_shown == {"hospital_it": 1, "reporter": 0}.get(role, 4)


def test_cards_equal_the_per_contract_figures(app, vendor):
    now = utcnow()
    shown = _hospitals_with_contracts(vendor, 3, now)
    bare = Organization.create(name="无工单医院", kind="hospital")
    shown.append(make_contract(bare, vendor, number="WB-EMPTY")[0])  # no tickets, quotas or outages
    today = now.astimezone(SH).date()
    with app.app_context():
        month, year = periods.month_period(today.year, today.month), periods.year_period(today.year)
        built = cards.cards(shown, now, today)
        _assert_cards_equal(shown, built, now, today, month, year)
    assert built[0]["year"]["total"] == 3 and built[0]["month"]["missed"] >= 1
    assert built[0]["uptime"]["uptime_percent"] < 100
    assert {len(quota["points"]) for card in built for quota in card["quotas"]} >= {2, 3}
    assert cards.cards([], now, today) == []


def _assert_cards_equal(shown, built, now, today, month, year):
    assert [card["contract"].id for card in built] == [contract.id for contract in shown]
    for contract, card in zip(shown, built, strict=True):
        assert card["month"] == monthly.summary(contract, month, now)
        assert card["year"] == monthly.summary(contract, year, now)
        expected = contracts.uptime(contract, today.year, None, now)
        assert card["uptime"] == {key: expected[key] for key in ("uptime_percent", "target_percent", "met")}
        quotas = list(Quota.select().where(Quota.contract == contract.id).order_by(Quota.id))
        assert [q["quota"].id for q in card["quotas"]] == [quota.id for quota in quotas]
        for quota, drawn in zip(quotas, card["quotas"], strict=True):
            first, last, points = contracts.quota_burndown(contract, quota, now)
            assert (drawn["first"], drawn["last"], drawn["points"]) == (first, last, points)
            assert drawn["remaining"] == points[-1][1] and drawn["limit"] == float(quota.limit)
        due = [p.amount for p in card["payments"]]
        assert due == ([500, 1000] if contract.number != "WB-EMPTY" else [])


def test_shown_contracts_join_the_hospital_and_keep_scoping(app, hospital, other_hospital, vendor, make_user):
    ours, _ = make_contract(hospital, vendor)
    make_contract(other_hospital, vendor, number="OTHER-1")
    today = utcnow().astimezone(SH).date()
    user = make_user("hospital_it")
    with app.app_context(), count_queries() as log:
        shown = dashboard.shown_contracts(user, today)
        names = [contract.hospital.name for contract in shown]
    assert [contract.id for contract in shown] == [ours.id] and names == [hospital.name]
    assert len(log.selects()) == 1


def test_year_summaries_are_kept_for_a_few_minutes_then_read_again(app, vendor):
    """The year's aggregate is the dashboard's one expensive statement: kept per app and set of
    contracts for YEAR_SUMMARY_SECONDS, then read again with the tickets written meanwhile."""
    now = utcnow()
    contracts_made = _hospitals_with_contracts(vendor, 2, now)
    ids = [c.id for c in contracts_made]
    year = now.astimezone(SH).year
    with app.test_request_context():
        first = cards.year_summaries(ids, year, now)
        assert first == monthly.summaries(ids, periods.year_period(year), now)
        make_ticket(contracts_made[0], None, status="closed", reported_at=now - timedelta(hours=1),
                    closed_at=now - timedelta(minutes=30))
        with count_queries() as queries:
            kept = cards.year_summaries(ids, year, now + timedelta(minutes=1))
        assert kept is first and len(queries) == 0
        later = now + timedelta(seconds=cards.YEAR_SUMMARY_SECONDS)
        fresh = cards.year_summaries(ids, year, later)
        assert fresh[ids[0]]["total"] == first[ids[0]]["total"] + 1
        assert fresh == monthly.summaries(ids, periods.year_period(year), later)
        # Another set of contracts (another viewer's) is never served this set's figures.
        assert cards.year_summaries(ids[:1], year, later) == monthly.summaries(ids[:1], periods.year_period(year), later)
    with app.test_request_context():
        kept_sets = app.extensions["weibao"].plugin_data["reports.year_summaries"]
        assert set(kept_sets) == {(tuple(ids), year), (tuple(ids[:1]), year)}
