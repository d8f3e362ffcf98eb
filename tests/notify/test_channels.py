"""Every channel against a real receiver that verifies the vendor's format and signature; bad
configurations fail with a clear message."""

import pytest

from portal.accounts.models import utcnow
from portal.db import db
from portal.notify import outbox
from portal.notify.channels import email_problem
from portal.notify.models import Notification
from tests.notify.conftest import add_config


def _send_one(app, config, key="k-1", channel=None, target=""):
    with app.app_context():
        with db.atomic():
            nid = outbox.notify("ticket_created", None, channel or config.kind,
                                {"title": "新工单 2026-0001：收费系统报错", "body": "优先级 P1", "url": "http://portal/tickets/1"},
                                key, config=config, target=target)
        return Notification.get_by_id(nid)


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu", "feishu_text", "webhook"])
def test_group_channels_deliver_signed_messages_the_vendor_accepts(app, configs, receiver, kind):
    row = _send_one(app, configs[kind], key=f"key-{kind}")
    assert row.status == "sent", row.last_error
    assert row.attempts == 1 and row.sent_at is not None and row.claim_token is None
    assert receiver.processed[f"key-{kind}"] == 1 and receiver.arrivals[f"key-{kind}"] == 1
    assert receiver.refused == []


def test_email_goes_through_smtp_with_the_key_header(app, configs, smtp):
    row = _send_one(app, configs["email"], key="mail-1", channel="email", target="li.hushi@hospital.example.cn")
    assert row.status == "sent", row.last_error
    (recipients, message), = smtp.messages
    assert recipients == ["li.hushi@hospital.example.cn"]
    assert message["Subject"] == "新工单 2026-0001：收费系统报错"
    assert message["X-Weibao-Idempotency-Key"] == "mail-1"
    assert "优先级 P1" in message.get_content()


def test_invalid_address_is_dead_at_once_with_a_clear_error(app, configs, smtp):
    row = _send_one(app, configs["email"], key="mail-bad", channel="email", target="not-an-address")
    assert row.status == "dead" and row.attempts == 1
    assert row.last_error == "not-an-address 不是有效的电子邮件地址"
    assert smtp.messages == []


@pytest.mark.parametrize("address, good", [
    ("a@b.cn", True), ("li.hushi+it@hospital.example.cn", True), ("", False), ("a@b", False),
    ("a b@c.cn", False), ("a@b.cn\r\nBcc: x@y.cn", False), ("<a@b.cn>", False), ("a@-b.cn", False),
])
def test_email_address_check(app, address, good):
    with app.test_request_context():
        assert (email_problem(address) is None) is good


@pytest.mark.parametrize("kind, settings, secret, expected", [
    ("dingtalk", None, "SECwrong", "钉钉机器人拒收消息：sign not match（错误码 310000）"),
    ("feishu", None, "wrong", "飞书机器人拒收消息：sign match fail"),
    ("wecom", None, "wrong-key", "企业微信机器人拒收消息：invalid webhook url（错误码 93000）"),
    ("webhook", None, "wrong", "127.0.0.1:%d 返回 HTTP 401"),
    ("webhook", {"url": "http://127.0.0.1:9/hook"}, "s", "无法连接 127.0.0.1:9"),
    ("webhook", {"url": "file:///etc/passwd"}, "s", "file:///etc/passwd 不是 http(s) 地址"),
])
def test_bad_configuration_fails_the_test_send_clearly(app, configs, receiver, kind, settings, secret, expected):
    good = configs[kind]
    with app.app_context():
        bad = add_config(f"bad-{kind}-{len(secret)}", kind, settings or good.settings, secret)
        channel = outbox.channels().get(kind)
        with pytest.raises(outbox.ChannelError) as caught:
            channel.test(bad)
    assert expected.replace("%d", str(receiver.server.server_address[1])) in str(caught.value)


def test_email_test_send_to_a_closed_port_and_a_bad_address(app, configs):
    with app.app_context():
        channel = outbox.channels().get("email")
        closed = add_config("smtp-closed", "email", {"host": "127.0.0.1", "port": 9, "from_addr": "w@h.cn"})
        with pytest.raises(outbox.ChannelError, match="无法连接 SMTP 服务器 127.0.0.1:9"):
            channel.test(closed)
        assert channel.validate({"host": "h", "port": 25, "from_addr": "nobody"}, "") == [
            "from_addr（发件人）：nobody 不是有效的电子邮件地址"]


def test_receiver_failing_three_times_still_gets_the_message_once(app, configs, receiver):
    receiver.fail_first = 3
    config = add_config("flaky", "webhook", {"url": receiver.url + "/flaky"}, receiver.webhook_secret)
    row = _send_one(app, config, key="flaky-1")
    assert row.status == "failed" and row.attempts == 1 and "返回 HTTP 503" in row.last_error
    with app.app_context():
        for _ in range(10):  # the sweeper, run at the moments the backoff allows
            row = Notification.get_by_id(row.id)
            if row.status == "sent":
                break
            outbox.sweep(now=row.next_attempt_at)
            outbox.deliver(row.id, now=row.next_attempt_at)
        row = Notification.get_by_id(row.id)
    assert row.status == "sent" and row.attempts == 4
    assert receiver.arrivals["flaky-1"] == 1


def test_backoff_doubles_and_gives_up_after_max_attempts(app, receiver):
    with app.app_context():
        app.config["NOTIFY_MAX_ATTEMPTS"] = 3
        config = add_config("down", "webhook", {"url": receiver.url + "/fail"}, "s")
        with db.atomic():
            nid = outbox.notify("ticket_created", None, "webhook", {"title": "t"}, "down-1", config=config)
        row = Notification.get_by_id(nid)
        first_wait = (row.next_attempt_at - row.claimed_at).total_seconds()
        outbox.deliver(nid, now=row.next_attempt_at)
        row2 = Notification.get_by_id(nid)
        second_wait = (row2.next_attempt_at - row2.claimed_at).total_seconds()
        outbox.deliver(nid, now=row2.next_attempt_at)
        row3 = Notification.get_by_id(nid)
    assert (row.status, row2.status, row3.status) == ("failed", "failed", "dead")
    assert second_wait == pytest.approx(2 * first_wait, abs=0.5)
    assert "返回 HTTP 500" in row3.last_error and row3.attempts == 3


def test_claim_has_one_winner_and_a_sent_row_is_never_sent_again(app, configs, receiver):
    row = _send_one(app, configs["webhook"], key="once")
    with app.app_context():
        assert outbox.claim(row.id) is None  # sent: nobody may claim it
        assert outbox.deliver(row.id) == "skipped"
        assert outbox.sweep(now=utcnow()) == 0
    assert receiver.arrivals["once"] == 1


def test_stuck_sending_row_is_taken_over_after_the_timeout(app, configs, receiver):
    with app.app_context():
        app.config["QUEUE_IMMEDIATE"] = True
        with db.atomic():
            nid = outbox.notify("x", None, "webhook", {"title": "t"}, "stuck", config=configs["webhook"],
                                not_before=utcnow().replace(year=2100))
        row = Notification.get_by_id(nid)
        token = outbox.claim(nid, now=row.next_attempt_at)  # a consumer claims it, then is killed
        assert token is not None and outbox.claim(nid, now=row.next_attempt_at) is None
        later = row.next_attempt_at + outbox.timedelta(seconds=app.config["NOTIFY_SENDING_TIMEOUT_SECONDS"] + 1)
        assert nid in outbox.due_ids(now=later)
        assert outbox.deliver(nid, now=later) == "sent"
    assert receiver.arrivals["stuck"] == 1


def test_insert_or_ignore_on_the_key_and_nothing_on_rollback(app, configs):
    with app.app_context():
        with db.atomic():
            first = outbox.notify("e", None, "inbox", {"title": "a"}, "same-key")
            second = outbox.notify("e", None, "inbox", {"title": "b"}, "same-key")
        assert first is not None and second is None
        with pytest.raises(RuntimeError):
            with db.atomic():
                outbox.notify("e", None, "webhook", {"title": "c"}, "rolled-back", config=configs["webhook"])
                raise RuntimeError("the change failed")
        assert not Notification.select().where(Notification.idempotency_key == "rolled-back").exists()
        assert Notification.get(Notification.idempotency_key == "same-key").payload["title"] == "a"


def test_secret_mask():
    assert outbox.mask("SECabcdefghijklmnop1234") == "SECa…1234"
    assert outbox.mask("short") == "••••••"
    assert outbox.mask("") == ""
