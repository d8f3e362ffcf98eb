"""The monthly report prints on A4 in the real browser: no table wider than the printable area,
headers repeat on every page, and the PDF has several A4 pages."""

import re
from datetime import timedelta

import pytest

from tests.conftest import browser_log_in
from tests.reports.conftest import at
from tests.reports.conftest import make_contract
from tests.reports.conftest import make_ticket

pytestmark = pytest.mark.browser

A4_WIDTH_PX = 210 / 25.4 * 96  # 793.7 CSS px
PRINTABLE_PX = (210 - 24) / 25.4 * 96  # minus the 12 mm side margins of @page: 703 px


def test_monthly_report_prints_on_a4_without_cut_off_tables(app, live_server, browser, hospital, vendor, make_user,
                                                           tmp_path):
    contract, systems = make_contract(hospital, vendor)
    for index in range(300):
        reported = at(2025, 3, 1 + index % 28, 8 + index % 9, index % 60)
        title = ("门诊收费处打印发票时提示打印机未就绪，重启后仍然报错 " * (1 + index % 3)) if index % 50 else "X" * 200
        make_ticket(contract, systems[("HIS", "CIS", "other")[index % 3]], title=title, reported_at=reported,
                    category=("fault", "bug", "consultation", "requirement")[index % 4], priority=f"P{1 + index % 4}",
                    response_due=reported + timedelta(minutes=30), resolve_due=reported + timedelta(hours=8),
                    resolved_at=reported + timedelta(hours=2 if index % 5 else 20), status="resolved",
                    root_cause=("根因：" + "数据库连接池耗尽" * (1 + index % 4) + "Y" * 300) if index % 5 == 0 else "")
    user = make_user("hospital_it")
    context = browser.new_context(locale="zh-CN", viewport={"width": round(A4_WIDTH_PX), "height": 1123})
    page = context.new_page()
    browser_log_in(page, live_server, user.username)
    page.goto(f"{live_server}/admin/reports/monthly/{contract.id}?year=2025&month=3")
    assert page.locator("#tickets tbody tr").count() == 300
    page.emulate_media(media="print")
    widths = page.evaluate("""() => Array.from(document.querySelectorAll('#monthly-report table')).map(t => ({
        id: t.id, width: t.getBoundingClientRect().width, scroll: t.scrollWidth,
        cells: Math.max(...Array.from(t.querySelectorAll('td, th')).map(c => c.getBoundingClientRect().right
                                                                         - t.getBoundingClientRect().left)),
        head: getComputedStyle(t.querySelector('thead')).display}))""")
    assert len(widths) >= 8
    for table in widths:
        assert table["width"] <= PRINTABLE_PX + 1, table
        assert table["scroll"] <= table["width"] + 1, table
        assert table["cells"] <= table["width"] + 1, table
        assert table["head"] == "table-header-group", table
    assert page.evaluate("() => getComputedStyle(document.querySelector('nav')).display") == "none"
    pdf = page.pdf(format="A4", print_background=False)
    (tmp_path / "monthly.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 3
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert sizes and all(abs(float(w) - 595.92) < 2 and abs(float(h) - 842.88) < 2 for w, h in sizes)
    page.screenshot(path=str(tmp_path / "monthly.png"), full_page=False)
    context.close()
