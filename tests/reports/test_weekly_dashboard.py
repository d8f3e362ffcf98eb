"""Weekly confirmation (who/when/checksum, audited, differences after a change), the quarterly
inspection report, the dashboard per role, praise letters with hostile text, role rules."""

import json
from datetime import timedelta

from portal.audit import AuditLog
from portal.reports.models import PraiseLetter
from portal.reports.models import WeeklyConfirmation
from portal.tickets.models import Ticket
from tests.conftest import BLNS_PATH
from tests.conftest import csrf_from
from tests.conftest import csrf_token
from tests.conftest import log_in
from tests.reports.conftest import at
from tests.reports.conftest import make_contract
from tests.reports.conftest import make_ticket

BLNS = BLNS_PATH


def test_weekly_sheet_confirm_and_difference(app, client, hospital, vendor, make_user):
    contract, systems = make_contract(hospital, vendor)
    # Week of Monday 2025-03-03 in Shanghai: Sunday 23:30 belongs to it, the next Monday 00:10 not.
    bug = make_ticket(contract, systems["HIS"], title="挂号报错", category="bug", reported_at=at(2025, 3, 3, 0, 5))
    make_ticket(contract, systems["CIS"], title="如何打印病历", category="consultation", reported_at=at(2025, 3, 9, 23, 30))
    make_ticket(contract, None, title="新增报表", category="requirement", reported_at=at(2025, 3, 5, 10, 0))
    make_ticket(contract, None, title="下周的问题", category="bug", reported_at=at(2025, 3, 10, 0, 10))
    user = make_user("hospital_it")
    log_in(client, user.username)
    url = f"/admin/reports/weekly/{contract.id}?week=2025-03-05"  # any day of the week names it
    html = client.get(url).get_data(as_text=True)
    assert "挂号报错" in html and "如何打印病历" in html and "新增报表" in html and "下周的问题" not in html
    digest = html.split('id="checksum">')[1].split("<")[0]
    token = csrf_from(html)

    # A stale checksum is refused; nothing stored.
    client.post(url, data={"csrf_token": token, "checksum": "0" * 64, "week": "2025-03-03"})
    assert WeeklyConfirmation.select().count() == 0
    response = client.post(url, data={"csrf_token": token, "checksum": digest, "week": "2025-03-03", "note": "已核对"})
    assert response.status_code == 302
    row = WeeklyConfirmation.get()
    assert row.confirmed_by_id == user.id and row.checksum == digest and str(row.week_start) == "2025-03-03"
    assert {t["number"] for items in json.loads(row.snapshot_json)["items"].values() for t in items} == {
        t.number for t in Ticket.select().where(Ticket.title != "下周的问题")}
    assert AuditLog.select().where(AuditLog.action == "confirm_week").count() == 1

    # The week changes: the page says so and shows the difference; re-confirming stores a new row.
    Ticket.update(status="resolved", resolution="已修复", resolved_at=at(2025, 3, 4, 9, 0)).where(Ticket.id == bug.id).execute()
    html = client.get(url).get_data(as_text=True)
    assert 'id="changed"' in html and 'id="difference"' in html and "已修复" in html
    new_digest = html.split('id="checksum">')[1].split("<")[0]
    assert new_digest != digest
    client.post(url, data={"csrf_token": csrf_from(html), "checksum": new_digest, "week": "2025-03-03"})
    assert WeeklyConfirmation.select().count() == 2
    assert 'id="changed"' not in client.get(url).get_data(as_text=True)

    # Vendor staff see the sheet but may not confirm.
    engineer = app.test_client()
    log_in(engineer, make_user("engineer").username)
    html = engineer.get(url).get_data(as_text=True)
    assert "confirm-form" not in html
    assert engineer.post(url, data={"csrf_token": csrf_from(html), "checksum": new_digest}).status_code == 403


def test_dashboard_per_role(app, client, hospital, other_hospital, vendor, make_user, department):
    ours, systems = make_contract(hospital, vendor)
    theirs, _ = make_contract(other_hospital, vendor, number="OTHER-1")
    reported = at(2025, 3, 3, 9, 0)
    make_ticket(ours, systems["HIS"], title="我院待确认", status="resolved", reported_at=reported,
                resolved_at=reported + timedelta(hours=1))
    make_ticket(theirs, None, title="外院待确认", status="resolved", reported_at=reported,
                resolved_at=reported + timedelta(hours=1))
    log_in(client, make_user("hospital_it").username)
    html = client.get("/admin/dashboard/").get_data(as_text=True)
    assert "我院待确认" in html and "外院待确认" not in html
    assert f'id="contract-{ours.id}"' in html and f'id="contract-{theirs.id}"' not in html
    assert "<svg" in html and "<script src=\"http" not in html
    manager = app.test_client()
    log_in(manager, make_user("manager").username)
    html = manager.get("/admin/dashboard/").get_data(as_text=True)
    assert f'id="contract-{ours.id}"' in html and f'id="contract-{theirs.id}"' in html
    reporter = app.test_client()
    log_in(reporter, make_user("reporter", department=department).username)
    response = reporter.get("/admin/dashboard/")
    assert response.status_code == 200 and 'class="card dash-card contract-card"' not in response.get_data(as_text=True)
    assert reporter.get(f"/admin/reports/monthly/{ours.id}").status_code == 403


def test_praise_letters_refuse_or_store_hostile_text(app, client, hospital, other_hospital, vendor, make_user):
    contract, _ = make_contract(hospital, vendor)
    theirs, _ = make_contract(other_hospital, vendor, number="OTHER-1")
    with open(BLNS, encoding="utf-8") as handle:
        strings = json.load(handle)
    log_in(client, make_user("hospital_it").username)
    token = csrf_token(client)
    stored = 0
    for text in strings[::7]:
        response = client.post("/admin/praise_letter_admin/new/", data={
            "csrf_token": token, "contract": str(contract.id), "received_on": "2025-05-01", "title": text[:200],
            "note": text})
        assert response.status_code < 500, repr(text)
        if response.status_code == 302:
            stored += 1
            letter = PraiseLetter.select().order_by(PraiseLetter.id.desc()).get()
            assert letter.note == text and letter.hospital_id == hospital.id
    assert stored > 0
    count = PraiseLetter.select().count()
    response = client.post("/admin/praise_letter_admin/new/", data={
        "csrf_token": token, "contract": str(theirs.id), "received_on": "2025-05-01", "title": "x"})
    assert response.status_code == 200 and PraiseLetter.select().count() == count  # refused, nothing written
    engineer = app.test_client()
    log_in(engineer, make_user("engineer").username)
    assert engineer.get("/admin/praise_letter_admin/new/").status_code == 403


def test_quarterly_inspection_report_lists_findings(app, client, hospital, vendor, make_user):
    from forms.models import FormSubmission
    from forms.models import FormType
    from forms.models import FormVersion

    contract, _ = make_contract(hospital, vendor)
    form_type = FormType.get(FormType.key == "quarterly_inspection")
    version = FormVersion.get((FormVersion.form_type == form_type) & (FormVersion.status == "published"))
    for number, day, issue in (("XJ-2025-0001", "2025-03-28", "表空间使用率 92%"), ("XJ-2025-0002", "2025-04-02", "四月")):
        FormSubmission.create(version=version, form_type=form_type, number=number, contract=contract,
                              hospital=hospital, vendor=vendor, state="confirmed", created_at=at(2025, 4, 3, 9, 0),
                              data_json=json.dumps({"inspection_date": day, "mode": "onsite", "findings": [
                                  {"issue": issue, "severity": "high", "action": "<script>alert(1)</script>扩容",
                                   "needs_ticket": True}]}), computed_json=json.dumps({"fail_count": 1}))
    log_in(client, make_user("hospital_it").username)
    html = client.get(f"/admin/reports/quarterly/{contract.id}?year=2025&quarter=1").get_data(as_text=True)
    assert "XJ-2025-0001" in html and "表空间使用率 92%" in html and "XJ-2025-0002" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    html = client.get(f"/admin/reports/monthly/{contract.id}?year=2025&month=3").get_data(as_text=True)
    assert "XJ-2025-0001" in html
