"""Notification fixtures: real HTTP and SMTP receivers, channel configs pointing at them, a contract."""

import pytest

from portal.db import db

from portal.notify.models import ChannelConfig
from tests.notify.receivers import HttpReceiver
from tests.notify.receivers import SmtpReceiver
from tests.tickets.conftest import make_contract  # noqa: F401  (the same seed-like contract)
from tests.tickets.conftest import contract  # noqa: F401
from tests.tickets.conftest import other_contract  # noqa: F401
from tests.tickets.conftest import users  # noqa: F401
from tests.tickets.conftest import apis  # noqa: F401


@pytest.fixture
def receiver():
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SmtpReceiver().start()
    yield server
    server.stop()


NOTIFY_TEST_CONFIG = {"PLUGINS": "dingtalk,feishu", "NOTIFY_BACKOFF_SECONDS": 1, "NOTIFY_SWEEP_GRACE_SECONDS": 0}


@pytest.fixture
def app(make_app):
    """The app with the DingTalk and Feishu plugins enabled and fast retries (huey immediate)."""
    app = make_app(**NOTIFY_TEST_CONFIG)
    yield app
    if not db.is_closed():
        db.close()


def add_config(name, kind, settings, secret="", organization=None, events=()):
    return ChannelConfig.create(name=name, kind=kind, settings=settings, secret=secret, organization=organization,
                                events=list(events))


@pytest.fixture
def configs(app, receiver, smtp):
    """One configuration per channel kind, each aimed at the local receivers."""
    return {
        "email": add_config("smtp", "email", {"host": "127.0.0.1", "port": smtp.port, "security": "none",
                                              "from_addr": "weibao@hospital.example.cn", "test_to": "it@hospital.example.cn"}),
        "wecom": add_config("wecom-group", "wecom", {"url": receiver.url + "/wecom/send"}, receiver.wecom_key),
        "dingtalk": add_config("dingtalk-group", "dingtalk", {"url": receiver.url + "/dingtalk/send?access_token=tok"},
                               receiver.dingtalk_secret),
        "feishu": add_config("feishu-group", "feishu", {"url": receiver.url + "/feishu/hook"}, receiver.feishu_secret),
        "feishu_text": add_config("feishu-text", "feishu", {"url": receiver.url + "/feishu/hook", "msg_type": "text"},
                                  receiver.feishu_secret),
        "webhook": add_config("ops-webhook", "webhook", {"url": receiver.url + "/webhook"}, receiver.webhook_secret),
    }
