"""The monthly report: content, exports (XLSX opens with openpyxl, CSV neutralised, audited), and a
hospital never sees another hospital's rows (page, XLSX, CSV, API)."""

import csv
import io
import re
from datetime import timedelta

from openpyxl import load_workbook

from portal.audit import AuditLog
from tests.conftest import log_in
from tests.reports.conftest import at
from tests.reports.conftest import make_contract
from tests.reports.conftest import make_ticket

OURS, THEIRS = "我院收费处发票打印失败", "OTHER-HOSPITAL-SECRET 外院病人数据"


def setup_two_hospitals(hospital, other_hospital, vendor):
    ours, systems = make_contract(hospital, vendor)
    theirs, their_systems = make_contract(other_hospital, vendor, number="OTHER-1")
    for day in range(1, 11):
        reported = at(2025, 3, day, 10, 0)
        make_ticket(ours, systems["HIS" if day % 2 else "CIS"], title=f"{OURS} {day}", reported_at=reported,
                    category="fault" if day % 3 else "consultation", priority="P3",
                    response_due=reported + timedelta(minutes=30), first_response_at=reported + timedelta(minutes=5),
                    resolve_due=reported + timedelta(days=1), resolved_at=reported + timedelta(hours=3 if day < 9 else 30),
                    status="resolved", satisfaction=4, root_cause="打印机驱动版本不一致" if day >= 9 else "")
        make_ticket(theirs, their_systems["HIS"], title=f"{THEIRS} {day}", reported_at=reported, status="new",
                    response_due=reported, resolve_due=reported)
    make_ticket(ours, None, title="=HYPERLINK(\"http://evil\")", reported_at=at(2025, 3, 20, 9, 0), status="new",
                category="requirement", priority="P4")
    make_ticket(ours, None, title="四月的问题", reported_at=at(2025, 4, 1, 0, 5), status="new")  # not March
    return ours, theirs


def test_monthly_report_page_and_exports_stay_inside_the_hospital(app, client, hospital, other_hospital, vendor,
                                                                   make_user, token_for):
    ours, theirs = setup_two_hospitals(hospital, other_hospital, vendor)
    user = make_user("hospital_it")
    log_in(client, user.username)

    page = client.get(f"/admin/reports/monthly/{ours.id}?year=2025&month=3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert {f"{OURS} {day}" for day in range(1, 11)} == set(re.findall(OURS + r" \d+", html))
    assert THEIRS not in html and "四月的问题" not in html
    assert "打印机驱动版本不一致" in html  # the breach causes
    assert 'id="breaches"' in html and "@page" in html and "size: A4" in html
    assert "<th>工单数</th>" in html and "<th>未解决</th>" in html  # the count columns' own msgids

    xlsx = client.get(f"/admin/reports/monthly/{ours.id}?year=2025&month=3&format=xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames[-1] == "工单明细"  # the ticket list, not a count
    sheet = book[book.sheetnames[-1]]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 11  # header + the month's 11 tickets
    titles = [row[1] for row in rows[1:]]
    assert sum(1 for t in titles if t.startswith(OURS)) == 10
    assert "'=HYPERLINK(\"http://evil\")" in titles  # a formula stays text
    summary = dict((row[0], row[1]) for row in book[book.sheetnames[0]].iter_rows(values_only=True))
    assert 11 in summary.values()
    everything = " ".join(str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r if c)
    assert THEIRS not in everything

    text = client.get(f"/admin/reports/monthly/{ours.id}?year=2025&month=3&format=csv").get_data(as_text=True)
    assert THEIRS not in text and text.count(OURS) >= 10
    assert any(len(row) > 1 and row[1] == "'=HYPERLINK(\"http://evil\")" for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert AuditLog.select().where((AuditLog.action == "export") & (AuditLog.object_type == "Contract")
                                   & (AuditLog.object_id == str(ours.id))).count() == 2

    # The other hospital's contract: 404 on page and exports, audited as a denied access.
    for suffix in ("", "&format=xlsx", "&format=csv"):
        assert client.get(f"/admin/reports/monthly/{theirs.id}?year=2025&month=3{suffix}").status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access_denied").count() >= 3

    api = client.get(f"/api/v1/contracts/{ours.id}/reports/monthly?year=2025&month=3", headers=token_for(user))
    body = api.get_json()
    assert api.status_code == 200 and body["summary"]["total"] == 11
    assert body["summary"]["resolve_missed"] == 2  # days 9 and 10; the open requirement has no deadline
    assert THEIRS not in api.get_data(as_text=True)
    assert client.get(f"/api/v1/contracts/{theirs.id}/reports/monthly?year=2025&month=3",
                      headers=token_for(user)).status_code == 404
    assert client.get(f"/api/v1/contracts/{theirs.id}/scorecard?year=2025", headers=token_for(user)).status_code == 404


def test_vendor_sees_each_hospital_separately_and_drills_down(app, client, hospital, other_hospital, vendor, make_user):
    ours, theirs = setup_two_hospitals(hospital, other_hospital, vendor)
    log_in(client, make_user("manager").username)
    html = client.get(f"/admin/reports/monthly/{theirs.id}?year=2025&month=3").get_data(as_text=True)
    assert len(set(re.findall(THEIRS + r" \d+", html))) == 10 and OURS not in html
    # Drill-down from "missed" lists exactly the tickets the figure counted.
    listing = client.get(f"/admin/reports/evidence/{ours.id}?period=month&year=2025&month=3&filter=resolve_missed")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert html.count("data-ticket-id=") == 2 and f"{OURS} 9" in html and f"{OURS} 10" in html
    listing = client.get(f"/admin/reports/evidence/{ours.id}?period=month&year=2025&month=3&filter=category&value=consultation")
    assert listing.get_data(as_text=True).count("data-ticket-id=") == 3  # days 3, 6, 9


def test_hostile_report_parameters_get_4xx_with_a_message(app, client, hospital, other_hospital, vendor, make_user):
    ours, theirs = setup_two_hospitals(hospital, other_hospital, vendor)
    log_in(client, make_user("hospital_it").username)
    base = f"/admin/reports/monthly/{ours.id}"
    for query in ("month=13", "month=0", "year=abc", "year=20255", "month=1e3", "month=%00", "year=2025&month=-1",
                  "format=pdf", "year=" + "9" * 500):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 400, query
        assert 'id="report-error"' in response.get_data(as_text=True), query
    for url in (f"/admin/reports/scorecard/{ours.id}?year=abc", f"/admin/reports/quarterly/{ours.id}?quarter=5",
                f"/admin/reports/weekly/{ours.id}?week=2025-02-30", f"/admin/reports/weekly/{ours.id}?week=abc",
                f"/admin/reports/evidence/{ours.id}?filter=drop table", f"/admin/reports/evidence/{ours.id}?filter=category&value=x",
                f"/admin/reports/evidence/{ours.id}?period=decade", f"/admin/reports/evidence/{ours.id}?kind=users",
                f"/admin/reports/evidence/{ours.id}?filter=system&value=99999999999999999999999",
                f"/admin/reports/evidence/{ours.id}?page=0"):
        response = client.get(url)
        assert response.status_code == 400, url
    for url in (f"/admin/reports/monthly/{theirs.id}", f"/admin/reports/scorecard/{theirs.id}",
                f"/admin/reports/weekly/{theirs.id}", f"/admin/reports/quarterly/{theirs.id}",
                f"/admin/reports/evidence/{theirs.id}", "/admin/reports/monthly/99999999"):
        assert client.get(url).status_code == 404, url
