from portal.accounts.models import User
from portal.audit import AuditLog
from tests.conftest import csrf_token
from tests.conftest import log_in


def assert_logged_out(client):
    """The session no longer holds: a private page sends the browser to the log-in page."""
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page
    assert 'lang="zh-Hans-CN"' in page


def test_login_and_logout(client, make_user):
    user = make_user("engineer")
    response = log_in(client, user.username)
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert_logged_out(client)
    actions = [row.action for row in AuditLog.select().order_by(AuditLog.id)]
    assert actions == ["login", "logout"]


def test_wrong_password_is_refused_and_audited(client, make_user):
    user = make_user("reporter")
    response = log_in(client, user.username, "wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert AuditLog.get(AuditLog.action == "login_failed").user_id == user.id


def test_eleventh_failed_login_is_locked_out(client, make_user):
    user = make_user("reporter")
    for _ in range(10):
        assert log_in(client, user.username, "nope nope").status_code == 401
    locked = log_in(client, user.username)  # the right password, but locked
    assert locked.status_code == 401
    assert "锁定" in locked.get_data(as_text=True)
    assert User.get_by_id(user.id).locked_until is not None
    assert AuditLog.select().where(AuditLog.action == "login_locked").count() == 1


def test_copied_cookie_is_refused_after_logout(app, make_user):
    user = make_user("hospital_it")
    browser = app.test_client()
    log_in(browser, user.username)
    stolen = browser.get_cookie("session").value
    browser.post("/logout", data={"csrf_token": csrf_token(browser)})
    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    assert_logged_out(attacker)


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user("engineer")
    first, second = app.test_client(), app.test_client()
    log_in(first, user.username)
    log_in(second, user.username)
    response = first.post("/profile", data={
        "csrf_token": csrf_token(first), "current": "correct horse 9", "new": "a new password 1", "confirm": "a new password 1",
    })
    assert response.status_code == 302
    assert_logged_out(second)
    assert log_in(app.test_client(), user.username, "a new password 1").status_code == 302


def test_idle_timeout_ends_session(make_app, make_user):
    app = make_app(SESSION_IDLE_MINUTES=0)
    client = app.test_client()
    with app.app_context():
        user = make_user("engineer")
    log_in(client, user.username)
    assert_logged_out(client)


def test_open_redirect_after_login_is_refused(client, make_user):
    user = make_user("engineer")
    token = client.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = client.post("/login?next=//evil.example/x", data={"username": user.username, "password": "correct horse 9",
                                                                   "csrf_token": csrf_from(token)})
    assert response.headers["Location"].endswith("/admin/")


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user("engineer")
    response = client.post("/login", data={"username": user.username, "password": "correct horse 9"})
    assert response.status_code == 400


def test_last_seen_moves_once_a_minute_and_the_idle_timeout_still_holds(make_app, make_user, monkeypatch):
    from portal import auth

    app = make_app(SESSION_IDLE_MINUTES=30)
    client = app.test_client()
    with app.app_context():
        user = make_user("engineer")
    log_in(client, user.username)
    started = auth.time.time()
    assert client.get("/profile").status_code == 200
    # Within a minute the session is not changed, so it is neither signed nor sent again.
    assert "Set-Cookie" not in client.get("/profile").headers
    monkeypatch.setattr(auth.time, "time", lambda: started + auth.SEEN_AT_STEP + 1)
    assert "Set-Cookie" in client.get("/profile").headers
    monkeypatch.setattr(auth.time, "time", lambda: started + auth.SEEN_AT_STEP + 1 + 29 * 60)
    assert client.get("/profile").status_code == 200  # seen 29 minutes ago: still in
    monkeypatch.setattr(auth.time, "time", lambda: started + auth.SEEN_AT_STEP + 1 + 29 * 60 + 31 * 60)
    assert_logged_out(client)
