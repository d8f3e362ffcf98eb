"""Feishu/Lark (飞书) bot channel. Enable with ``WEIBAO_PLUGINS=feishu``.

Settings: ``url`` (the bot's webhook URL), ``msg_type`` ("interactive", the default, or "text");
the config's secret is the bot's signing secret. Feishu's signature goes in the JSON body:
``sign`` = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")) with ``timestamp`` in
seconds. Feishu answers HTTP 200 with ``code`` != 0 on a refusal (e.g. 19021 sign match fail).
"""

import base64
import hashlib
import hmac
import time
from pathlib import Path

from flask_babel import gettext as _

from portal.notify.channels import IDEMPOTENCY_HEADER
from portal.notify.channels import Channel
from portal.notify.channels import check_errcode
from portal.notify.channels import markdown_text
from portal.notify.channels import plain_text
from portal.notify.channels import post_json
from portal.notify.channels import signed_webhook_problems
from portal.plugins import Plugin

MSG_TYPES = ("interactive", "text")


def sign(secret, timestamp):
    """Feishu's signature: the key is "timestamp\\nsecret", the message is empty."""
    key = f"{timestamp}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def message_body(payload, msg_type):
    if msg_type == "text":
        return {"msg_type": "text", "content": {"text": plain_text(payload)[:4000]}}
    title = " ".join(str(payload.get("title", "")).split())[:100] or "Weibao"
    return {"msg_type": "interactive", "card": {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title},
                   "template": "red" if payload.get("urgent") else "blue"},
        "elements": [{"tag": "markdown", "content": markdown_text(payload)[:4000]}],
    }}


class FeishuChannel(Channel):
    name = "feishu"

    def validate(self, settings, secret):
        problems = signed_webhook_problems(settings, secret, _("secret: the bot's signing secret is missing"))
        if settings.get("msg_type", "interactive") not in MSG_TYPES:
            problems.append(_("msg_type: interactive or text"))
        return problems

    def send(self, config, notification):
        settings = config.settings or {}
        timestamp = str(int(time.time()))
        body = {"timestamp": timestamp, "sign": sign(config.secret, timestamp),
                **message_body(notification.payload or {}, settings.get("msg_type", "interactive"))}
        answer = post_json(settings.get("url") or "", body, {IDEMPOTENCY_HEADER: notification.idempotency_key})
        check_errcode(answer, _("The Feishu bot"), code_keys=("code", "StatusCode"), message_keys=("msg", "StatusMessage"))


def setup(ctx):
    ctx.add_notification_channel("feishu", FeishuChannel())
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(name="feishu", setup=setup, requires=("notify",), description="Feishu (Lark) bot channel")
