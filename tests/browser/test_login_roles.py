"""Every role logs in through the real browser, sees the Chinese UI, and logs out."""

import pytest

from portal.permissions import ALL_ROLES
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser


def test_each_role_logs_in_sees_chinese_and_logs_out(app, live_server, browser, make_user, tmp_path):
    for role in sorted(ALL_ROLES):
        user = make_user(role, display_name=f"测试{role}")
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        browser_log_in(page, live_server, user.username)
        assert page.url.endswith("/admin/dashboard/"), f"{role}: {page.url}"
        assert page.inner_text("#welcome") == f"欢迎，测试{role}"
        assert "退出登录" in page.inner_text("nav")
        page.screenshot(path=str(tmp_path / f"{role}.png"))
        page.click("#logout-button")
        page.wait_for_load_state()
        assert page.url.endswith("/login")
        assert "您已退出登录" in page.content()
        page.goto(f"{live_server}/admin/")
        assert "/login" in page.url, f"{role} still logged in after log-out"
        context.close()


def test_wrong_password_shows_chinese_message(app, live_server, browser, make_user):
    user = make_user("reporter")
    page = browser.new_page()
    browser_log_in(page, live_server, user.username, "not the password")
    assert "用户名或密码错误" in page.inner_text(".alert")
