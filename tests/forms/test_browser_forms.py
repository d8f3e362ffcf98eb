"""In a real browser: an admin writes a form type in the YAML editor, sees a located mistake,
previews and publishes it; an engineer fills it in (rows, a drawn signature) and the server
refuses a conditional rule; the printable page shows the signature."""

import pytest

from forms.models import FormSubmission
from tests.conftest import browser_log_in
from tests.forms.helpers import NETWORK_V1

pytestmark = pytest.mark.browser

WITH_SIGNATURE = NETWORK_V1.replace(
    "computed:", "  - key: sign\n    title: {zh: 签字, en: Sign}\n    fields:\n"
    "      - {key: signature, type: signature, required: true, label: {zh: 工程师签字, en: Signature}}\n"
    "computed:")


def test_write_publish_and_fill_in_a_form(app, live_server, browser, make_user, contract):
    admin, engineer = make_user("admin"), make_user("engineer")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    browser_log_in(page, live_server, admin.username)
    page.goto(f"{live_server}/admin/form-types/new")
    page.fill("#yaml", WITH_SIGNATURE.replace("type: textarea", "type: hologram"))
    page.click("#save-draft")
    page.wait_for_load_state()
    problems = page.inner_text("#problems")
    assert "第 20 行" in problems and "hologram" in problems
    assert page.inner_text("#gutter .bad") == "20"
    page.fill("#yaml", WITH_SIGNATURE)
    page.click("#preview-button")
    page.wait_for_selector("#preview-form")
    assert "网络设备检查" in page.inner_text("#preview")
    page.click("#save-draft")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/form-types/network_check/edit")
    page.click("#publish")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/form-types/network_check/history")
    assert page.locator('#versions tr[data-version="1"]').count() == 1
    context.close()

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    browser_log_in(page, live_server, engineer.username)
    page.goto(f"{live_server}/admin/submissions/new/network_check")
    page.select_option("#WB_CONTRACT", str(contract.id))
    page.fill("#device", "核心交换机")
    page.select_option("#status", "down")  # makes `cause` required; left empty on purpose
    page.fill("#ports-0-port", "g0/1")
    page.click("#add-ports")
    page.wait_for_load_state()
    page.fill("#ports-1-port", "g0/2")
    page.fill("#ports-1-errors", "3")
    canvas = page.locator(".wb-sigpad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 80, steps=8)
    page.mouse.move(box["x"] + 300, box["y"] + 30, steps=8)
    page.mouse.up()
    page.click("#save")
    page.wait_for_load_state()
    assert "此项必填" in page.inner_text('[data-path="cause"]')
    assert FormSubmission.select().count() == 0
    page.fill("#cause", "光模块故障")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # the signature is drawn again after the refused post
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 250, box["y"] + 90, steps=8)
    page.mouse.up()
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator("#form-problems").count() == 0, page.inner_text("#form-problems")
    assert page.locator("#submission-number").count() == 1
    submission = FormSubmission.get()
    assert submission.computed == {"total_errors": 3}
    assert len(submission.data["ports"]) == 2
    assert submission.data["signature"]["content_type"] == "image/png"
    page.click("#print-link")
    page.wait_for_load_state()
    assert submission.number in page.inner_text("#print-number")
    assert page.evaluate("document.querySelector('.wb-signature-img').naturalWidth") > 0
    context.close()
