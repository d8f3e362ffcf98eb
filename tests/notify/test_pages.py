"""The inbox page and nav count, preferences with quiet hours, the admin queue (errors, retry now,
test-send), channel configs with write-only secrets, and hostile text in the forms."""

import json
from datetime import datetime
from datetime import timedelta

import pytest

from portal.notify.models import ChannelConfig
from portal.notify.models import Notification
from portal.notify.models import NotificationPreference
from tests.conftest import blns_strings
from tests.conftest import csrf_token
from tests.conftest import log_in
from tests.notify.conftest import add_config
from tests.notify.test_events import _create
from tests.tickets.conftest import SH


def logged_in(app, user):
    client = app.test_client()
    assert log_in(client, user.username).status_code == 302
    return client


def test_inbox_page_nav_count_and_mark_read(app, contract, users):
    _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 10, 0, tzinfo=SH))
    client = logged_in(app, users["engineer"])
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'id="unread-count">1<' in page and "新工单" in page
    row = Notification.get((Notification.recipient == users["engineer"].id) & (Notification.channel == "inbox"))
    assert client.get("/notifications/unread-count").get_json() == {"unread": 1, "cap": 100}
    response = client.post(f"/notifications/{row.id}/read", data={"csrf_token": csrf_token(client), "open": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tickets/{row.payload['url'].rsplit('/', 1)[1]}")
    assert client.get("/notifications/unread-count").get_json()["unread"] == 0
    assert 'id="unread-count"' not in client.get("/profile").get_data(as_text=True)
    other = logged_in(app, users["manager"])
    assert other.post(f"/notifications/{row.id}/read", data={"csrf_token": csrf_token(other)}).status_code == 302
    assert Notification.get_by_id(row.id).read_at is not None  # the engineer's read, not touched by the manager
    manager_row = Notification.get((Notification.recipient == users["manager"].id) & (Notification.channel == "inbox"))
    assert manager_row.read_at is None


def test_preferences_mute_an_event_and_quiet_hours_delay_email(app, contract, users, configs, smtp):
    engineer = users["engineer"]
    engineer.email = "qin@vendor.example.cn"
    engineer.save()
    client = logged_in(app, engineer)
    token = csrf_token(client, "/notifications/preferences")
    bad = client.post("/notifications/preferences", data={"csrf_token": token, "quiet_start": "25:00"})
    assert "HH:MM" in bad.get_data(as_text=True)
    response = client.post("/notifications/preferences", data={
        "csrf_token": token, "events": ["ticket_created", "sla_breached"], "email": "y",
        "quiet_start": "22:00", "quiet_end": "07:30"})
    assert response.status_code == 302
    pref = NotificationPreference.get(NotificationPreference.user == engineer.id)
    assert "sla_warning" in pref.muted_events and pref.channels == ["email"]
    night = datetime(2026, 3, 10, 23, 0, tzinfo=SH)
    _create(app, contract, users["hospital_it"], night)
    mail = Notification.get((Notification.recipient == engineer.id) & (Notification.channel == "email"))
    assert mail.status == "pending" and mail.next_attempt_at == datetime(2026, 3, 11, 7, 30, tzinfo=SH)
    assert smtp.messages == []
    urgent = _create(app, contract, users["hospital_it"], night, priority="P1")
    mail = Notification.get((Notification.recipient == engineer.id) & (Notification.channel == "email")
                            & Notification.idempotency_key.startswith(f"ticket:{urgent.id}:"))
    assert mail.status == "sent" and [m["X-Weibao-Idempotency-Key"] for _, m in smtp.messages] == [
        mail.idempotency_key]


def test_admin_queue_shows_errors_retries_and_tests_channels(app, contract, users, configs, receiver):
    bad = add_config("bad-dingtalk", "dingtalk", configs["dingtalk"].settings, "SECthis-is-the-wrong-secret")
    _create(app, contract, users["hospital_it"], datetime(2026, 3, 10, 10, 0, tzinfo=SH))
    failed = Notification.get(Notification.config == bad.id)
    assert failed.status == "failed" and "sign not match" in failed.last_error
    client = logged_in(app, users["admin"])
    page = client.get("/admin/notify/queue/?status=failed").get_data(as_text=True)
    assert "sign not match" in page and "钉钉机器人拒收消息" in page and f'id="row-{failed.id}"' in page
    token = csrf_token(client, "/admin/notify/queue/")
    # Test-send: a clear error for the bad one, success for the good one; secrets stay masked.
    response = client.post(f"/admin/notify/queue/test/{bad.id}", data={"csrf_token": token}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "通过 bad-dingtalk 发送测试消息失败：钉钉机器人拒收消息：sign not match（错误码 310000）" in text
    assert "SECthis-is-the-wrong-secret" not in text and "SECt…cret" in text
    response = client.post(f"/admin/notify/queue/test/{configs['webhook'].id}", data={"csrf_token": token},
                           follow_redirects=True)
    assert "已通过 ops-webhook 发送测试消息。" in response.get_data(as_text=True)
    # Fix the secret, retry now: delivered once.
    ChannelConfig.update(secret=receiver.dingtalk_secret).where(ChannelConfig.id == bad.id).execute()
    response = client.post(f"/admin/notify/queue/retry/{failed.id}", data={"csrf_token": token, "status": "failed"})
    assert response.status_code == 302
    assert Notification.get_by_id(failed.id).status == "sent"
    assert receiver.arrivals[failed.idempotency_key] == 1
    assert client.post(f"/admin/notify/queue/retry/{failed.id}", data={"csrf_token": token}).status_code == 302
    assert receiver.arrivals[failed.idempotency_key] == 1


def test_queue_and_channels_are_admin_only(app, users):
    for role in ("hospital_it", "manager", "engineer", "reporter"):
        client = logged_in(app, users[role])
        assert client.get("/admin/notify/queue/").status_code == 403
        assert client.post("/admin/notify/queue/test/1", data={"csrf_token": csrf_token(client)}).status_code == 403
        assert client.get("/admin/notify_channels/").status_code == 403


def test_channel_config_secret_is_write_only(app, users, receiver):
    client = logged_in(app, users["admin"])
    token = csrf_token(client, "/admin/notify_channels/new/")
    form = {"csrf_token": token, "name": "ops", "kind": "webhook", "enabled": "y",
            "settings_json": json.dumps({"url": receiver.url + "/webhook"}), "events_text": "ticket_created, sla_breached",
            "new_secret": "whsec-0123456789abcdef"}
    assert client.post("/admin/notify_channels/new/", data=form).status_code == 302
    config = ChannelConfig.get(ChannelConfig.name == "ops")
    assert config.secret == "whsec-0123456789abcdef" and config.events == ["ticket_created", "sla_breached"]
    for url in ("/admin/notify_channels/", f"/admin/notify_channels/edit/?id={config.id}",
                f"/admin/notify_channels/details/?id={config.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "whsec-0123456789abcdef" not in page and "whse…cdef" in page, url
    edit = {**form, "new_secret": "", "name": "ops"}
    assert client.post(f"/admin/notify_channels/edit/?id={config.id}", data=edit).status_code == 302
    assert ChannelConfig.get_by_id(config.id).secret == "whsec-0123456789abcdef"  # empty keeps it
    export = client.get("/admin/notify_channels/export/csv/").get_data(as_text=True)
    assert "whsec" not in export


@pytest.mark.parametrize("settings_json, events, message", [
    ("{not json", "", "设置不是有效的 JSON"),
    ("[1]", "", "设置必须是 JSON 对象"),
    ('{"url": "ftp://x"}', "", "ftp://x 不是 http(s) 地址"),
    ('{"url": "http://x"}', "no_such_event", "未知事件：no_such_event"),
    ('{"url": "http://x\\u0000"}', "", "设置："),
    ('{"url": "http://x"}', "", "同名"),
])
def test_bad_channel_config_is_refused_with_a_message(app, users, settings_json, events, message):
    if message == "同名":
        add_config("x", "webhook", {"url": "http://y"}, "s")
    client = logged_in(app, users["admin"])
    token = csrf_token(client, "/admin/notify_channels/new/")
    response = client.post("/admin/notify_channels/new/", data={
        "csrf_token": token, "name": "x", "kind": "webhook", "settings_json": settings_json, "events_text": events,
        "new_secret": "s3cret-0123456789"}, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert ChannelConfig.select().count() == (1 if message == "同名" else 0)


def test_hostile_strings_through_the_preference_and_config_forms(app, users):
    strings = blns_strings()
    admin = logged_in(app, users["admin"])
    token = csrf_token(admin, "/admin/notify_channels/new/")
    prefs = logged_in(app, users["engineer"])
    ptoken = csrf_token(prefs, "/notifications/preferences")
    for n, value in enumerate(strings):
        response = admin.post("/admin/notify_channels/new/", data={
            "csrf_token": token, "name": value[:100] or "x", "kind": "webhook",
            "settings_json": json.dumps({"url": "http://127.0.0.1:9/", "note": value}), "events_text": "",
            "new_secret": value[:500] or "s"})
        assert response.status_code in (200, 302), (n, value)
        response = prefs.post("/notifications/preferences", data={"csrf_token": ptoken, "quiet_start": value[:20],
                                                                 "quiet_end": value[:20], "events": [value[:50]]})
        assert response.status_code in (200, 302), (n, value)
    for config in ChannelConfig.select():
        assert config.settings["note"] in strings
    assert datetime.now() - timedelta(days=1) < datetime.now()
