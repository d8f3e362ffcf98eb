"""Contract admin pages and the overview: scoping by organisation, audit, demo data."""

from datetime import date

from portal.accounts.models import Organization
from portal.audit import AuditLog
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Outage
from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota
from portal.contracts.models import SlaTarget
from portal.demo import load_demo
from tests.conftest import csrf_token
from tests.conftest import log_in


def test_overview_page_shows_sla_quota_chart_uptime_and_payments(client, make_user, contract_id):
    log_in(client, make_user("hospital_it").username)
    page = client.get(f"/admin/contract/{contract_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for marker in ('id="sla-table"', "<svg", "polyline", 'id="uptime-months"', 'id="payments"', "门急诊收费系统"):
        assert marker in html
    assert "MSZC2024-D3-00267" in client.get("/admin/contract/").get_data(as_text=True)


def test_other_hospital_gets_404_everywhere_and_is_audited(app, client, make_user, other_hospital, contract_id):
    log_in(client, make_user("hospital_it", other_hospital).username)
    for url in (f"/admin/contract/{contract_id}", f"/admin/contracts/details/?id={contract_id}"):
        assert client.get(url).status_code == 404, url
    export = client.get("/admin/contracts/export/csv/")
    assert export.status_code == 200 and "MSZC2024" not in export.get_data(as_text=True)
    assert "MSZC2024" not in client.get("/admin/contracts/").get_data(as_text=True)
    system = CoveredSystem.select().first()
    assert client.get(f"/admin/covered_systems/details/?id={system.id}").status_code == 404
    assert "门急诊收费系统" not in client.get("/admin/covered_systems/export/csv/").get_data(as_text=True)
    rival = Organization.create(name="别家公司", kind="vendor")
    other = app.test_client()
    log_in(other, make_user("manager", rival).username)
    assert other.get(f"/admin/contracts/edit/?id={contract_id}").status_code == 404
    token = csrf_token(other, "/admin/contracts/")
    # Deleting is an admin's right: a manager is refused before the row is even looked up.
    assert other.post("/admin/contracts/delete/", data={"id": contract_id, "csrf_token": token}).status_code == 403
    assert other.get(f"/admin/quotas/edit/?id={Quota.select().first().id}").status_code == 404
    assert Contract.select().where(Contract.id == contract_id).exists()
    denied = AuditLog.select().where(AuditLog.action == "access_denied")
    assert denied.count() >= 5


def test_manager_edits_own_contract_in_the_admin(client, make_user, contract_id):
    log_in(client, make_user("manager").username)
    url = f"/admin/contracts/edit/?id={contract_id}"
    page = client.get(url).get_data(as_text=True)
    assert "MSZC2024-D3-00267" in page
    contract = Contract.get_by_id(contract_id)
    data = {"csrf_token": csrf_token(client, url), "number": contract.number, "title": "改名",
            "hospital": contract.hospital_id, "vendor": contract.vendor_id, "start_date": "2024-05-01",
            "end_date": "2024-04-01", "amount": "1179000", "tax_rate": "0", "penalty_percent_per_day": "3",
            "penalty_cap_percent": "10", "uptime_target_percent": "98", "staffing": "", "report_obligations": "",
            "inspection_obligations": "", "notes": ""}
    refused = client.post(url, data=data)
    assert refused.status_code == 200 and Contract.get_by_id(contract_id).title != "改名"
    data.update(end_date="2027-04-30", csrf_token=csrf_token(client, url))
    assert client.post(url, data=data).status_code == 302
    assert Contract.get_by_id(contract_id).title == "改名"


def test_reporter_views_but_cannot_edit_or_see_the_ledger(client, make_user, contract_id):
    log_in(client, make_user("reporter").username)
    assert client.get("/admin/contracts/").status_code == 200
    assert client.get(f"/admin/contracts/edit/?id={contract_id}").status_code == 403
    assert client.get("/admin/quota_usage/").status_code == 403
    assert client.get("/admin/outages/").status_code == 403


def test_outage_form_refuses_an_end_before_the_start(client, make_user, contract_id):
    log_in(client, make_user("engineer").username)
    system = CoveredSystem.select().first()
    url = "/admin/outages/new/"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "system": system.id,
                                      "started_at": "2025-03-01 10:00:00", "ended_at": "2025-03-01 09:00:00",
                                      "cause": "x", "ticket_id": ""})
    assert response.status_code == 200 and Outage.select().count() == 0
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "system": system.id,
                                      "started_at": "2025-03-01T09:00", "ended_at": "2025-03-01T10:30",
                                      "cause": "数据库锁表", "ticket_id": ""})
    assert response.status_code == 302
    outage = Outage.get()
    assert outage.started_at.isoformat() == "2025-03-01T01:00:00+00:00"  # typed in Asia/Shanghai
    edit = client.get(f"/admin/outages/edit/?id={outage.id}").get_data(as_text=True)
    assert "2025-03-01T09:00" in edit


def test_demo_contract_from_the_seeds(app):
    with app.app_context():
        load_demo(app)
        contract = Contract.get(Contract.number == "MSZC2024-D3-00267")
        assert contract.hospital.name == "蒙山县中医医院" and contract.vendor.name == "南宁翱宇科技有限公司"
        assert contract.amount == 1179000 and (contract.start_date, contract.end_date) == (date(2024, 5, 1), date(2027, 4, 30))
        systems = list(contract.systems)
        assert len(systems) == 65 and {s.system_class for s in systems} == {"HIS", "CIS", "other"}
        classes = {s.name: s.system_class for s in systems}
        assert classes["门急诊收费系统"] == "HIS" and classes["一体化护士工作站"] == "CIS" and classes["电子发票接口"] == "other"
        assert SlaTarget.select().where(SlaTarget.contract == contract).count() == 12
        assert {q.kind: (q.limit, q.unit) for q in contract.quotas} == {
            "custom_requirement": (20, "count"), "emergency_rescue": (4, "count"),
            "secondary_modification": (15, "person_days")}
        payments = list(PaymentInstallment.select().where(PaymentInstallment.contract == contract)
                        .order_by(PaymentInstallment.due_date))
        assert [p.amount for p in payments] == [393000] * 3
        # 7 working days after signing on 2024-04-30: 1–5 May off, Sat 11 May is a 调休 working day.
        assert payments[0].due_date == date(2024, 5, 13)
        assert Outage.select().count() >= 3
