"""DingTalk (钉钉) group robot channel. Enable with ``WEIBAO_PLUGINS=dingtalk``.

Settings: ``url`` (the robot's webhook URL with its access_token); the config's secret is the
robot's signing secret (``SEC…``). Each message is signed as DingTalk asks: timestamp (ms) +
"\\n" + secret, HMAC-SHA256 keyed with the secret, base64, URL-encoded, appended to the URL as
``&timestamp=…&sign=…``. Body ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; DingTalk
answers HTTP 200 with ``errcode`` != 0 on a refusal (e.g. 310000 "sign not match").
"""

import base64
import hashlib
import hmac
import time
import urllib.parse
from pathlib import Path

from flask_babel import gettext as _

from portal.notify.channels import IDEMPOTENCY_HEADER
from portal.notify.channels import Channel
from portal.notify.channels import check_errcode
from portal.notify.channels import markdown_text
from portal.notify.channels import post_json
from portal.notify.channels import signed_webhook_problems
from portal.plugins import Plugin


def sign(secret, timestamp_ms):
    """DingTalk's signature for *timestamp_ms*: base64(HMAC-SHA256(secret, f"{ts}\\n{secret}"))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(url, secret, timestamp_ms=None):
    """The webhook URL with ``&timestamp=…&sign=…`` (the sign URL-encoded)."""
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    query = urllib.parse.urlencode({"timestamp": timestamp_ms, "sign": sign(secret, timestamp_ms)})
    return url + ("&" if "?" in url else "?") + query


class DingTalkChannel(Channel):
    name = "dingtalk"

    def validate(self, settings, secret):
        return signed_webhook_problems(settings, secret, _("secret: the robot's signing secret (SEC…) is missing"))

    def send(self, config, notification):
        settings = config.settings or {}
        payload = notification.payload or {}
        title = " ".join(str(payload.get("title", "")).split())[:100] or "Weibao"
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": markdown_text(payload)[:4000]}}
        answer = post_json(signed_url(settings.get("url") or "", config.secret), body,
                           {IDEMPOTENCY_HEADER: notification.idempotency_key})
        check_errcode(answer, _("The DingTalk robot"))


def setup(ctx):
    ctx.add_notification_channel("dingtalk", DingTalkChannel())
    ctx.add_translations(Path(__file__).parent / "translations")


plugin = Plugin(name="dingtalk", setup=setup, requires=("notify",), description="DingTalk group robot channel")
