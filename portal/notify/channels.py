"""Delivery channels: in-app inbox, e-mail (SMTP), WeCom group robot, signed JSON webhook.

A channel is any object with ``send(config, notification)`` (raise :class:`ChannelError` with a
clear message on failure), ``test(config)`` (the admin's test-send), ``validate(settings,
secret)`` (problems as strings) and ``per_user`` (True: the recipient's own address, e.g.
e-mail; False: a group destination held by the ChannelConfig). Plugins register more with
``ctx.add_notification_channel(name, channel)`` (DingTalk and Feishu live in plugins/).
"""

import hashlib
import http.client
import hmac
import json
import re
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr
from email.utils import make_msgid

from flask_babel import gettext as _

from portal.accounts.models import utcnow
from portal.notify.models import Notification
from portal.notify.outbox import ChannelError
from portal.notify.outbox import setting
from portal.text import UNSTORABLE

IDEMPOTENCY_HEADER = "X-Weibao-Idempotency-Key"
SIGNATURE_HEADER = "X-Weibao-Signature"
TIMESTAMP_HEADER = "X-Weibao-Timestamp"
EMAIL = re.compile(r"^[^@\s<>()\[\],;:\\\"]{1,64}@(?=.{1,253}$)[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+$")


def email_problem(address):
    """Return why *address* is not a usable e-mail address, or None."""
    if not isinstance(address, str) or not address.strip():
        return _("no e-mail address")
    if UNSTORABLE.search(address) or "\n" in address or "\r" in address or len(address) > 254:
        return _("%(address)s is not a valid e-mail address", address=address[:80])
    if not EMAIL.match(address):
        return _("%(address)s is not a valid e-mail address", address=address[:80])
    return None


def signed_webhook_problems(settings, secret, missing_secret):
    """Problems of a robot/webhook configuration: an http(s) URL and a signing secret."""
    problems = []
    problem = url_problem(settings.get("url"))
    if problem:
        problems.append(_("url: %(problem)s", problem=problem))
    if not secret:
        problems.append(missing_secret)
    return problems


def url_problem(url):
    """Return why *url* is not an http(s) URL we may post to, or None."""
    if not isinstance(url, str) or not url:
        return _("no URL")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("%(url)s is not an http(s) URL", url=url[:120])
    return None


def markdown_text(payload):
    """The message as Markdown: bold title, body, a link when there is one."""
    title = " ".join(str(payload.get("title", "")).split())
    text = f"**{title}**\n\n{payload.get('body', '')}"
    if payload.get("url"):
        text += f"\n\n[{payload.get('link_text') or payload['url']}]({payload['url']})"
    return text


def plain_text(payload):
    text = f"{payload.get('title', '')}\n{payload.get('body', '')}"
    return text + (f"\n{payload['url']}" if payload.get("url") else "")


def post_json(url, body, headers=None, timeout=None):
    """POST *body* (bytes or a JSON value) to *url*; return the parsed JSON answer (or {}).

    Raises ChannelError naming the host and the reason: HTTP status, unreachable, timeout.
    """
    problem = url_problem(url)
    if problem:
        raise ChannelError(problem, permanent=True)
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "Weibao-notify/1", **(headers or {})})
    host = urllib.parse.urlsplit(url).netloc
    timeout = timeout or float(setting("NOTIFY_HTTP_TIMEOUT_SECONDS"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as error:
        detail = error.read(300).decode("utf-8", "replace").strip()
        raise ChannelError(_("%(host)s answered HTTP %(status)s: %(detail)s", host=host, status=error.code,
                             detail=detail or error.reason)) from None
    except urllib.error.URLError as error:
        raise ChannelError(_("cannot reach %(host)s: %(reason)s", host=host, reason=error.reason)) from None
    except (TimeoutError, socket.timeout):
        raise ChannelError(_("%(host)s did not answer within %(n)s seconds", host=host, n=timeout)) from None
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise ChannelError(_("cannot reach %(host)s: %(reason)s", host=host, reason=error)) from None
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return {}


def check_errcode(answer, who, code_keys=("errcode",), message_keys=("errmsg",)):
    """Robots answer HTTP 200 with an error code inside: raise when it is not 0."""
    for key in code_keys:
        code = answer.get(key) if isinstance(answer, dict) else None
        if code not in (None, 0, "0"):
            message = next((answer.get(m) for m in message_keys if answer.get(m)), "")
            raise ChannelError(_("%(who)s refused the message: %(message)s (code %(code)s)", who=who,
                                 message=message, code=code))


def test_notification(config, channel_name):
    """An unsaved notification for the admin's test-send button."""
    stamp = utcnow()
    return Notification(channel=channel_name, config=config, event="test", target="",
                        idempotency_key=f"test:{getattr(config, 'id', 0)}:{stamp.timestamp():.6f}",
                        payload={"title": _("Weibao test message"),
                                 "body": _("If you can read this, the channel %(name)s works.",
                                           name=getattr(config, "name", channel_name))})


class Channel:
    """Shared behaviour; subclasses implement send() and may refine validate()."""

    per_user = False
    label = ""
    name = ""

    def validate(self, settings, secret):
        return []

    def test(self, config):
        self.send(config, test_notification(config, self.name))


class InboxChannel(Channel):
    """The in-app inbox: writing the row is the delivery."""

    name = "inbox"
    per_user = True

    def send(self, config, notification):
        return None

    def test(self, config):
        return None


class EmailChannel(Channel):
    """SMTP: settings host, port, security (starttls|ssl|none), username, from_addr, test_to;
    the password is the config's secret. The recipient's address is the row's target."""

    name = "email"
    per_user = True

    def validate(self, settings, secret):
        problems = []
        if not str(settings.get("host") or "").strip():
            problems.append(_("host: name the SMTP server"))
        port = settings.get("port", 25)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            problems.append(_("port: a number from 1 to 65535"))
        if settings.get("security", "none") not in ("starttls", "ssl", "none"):
            problems.append(_("security: starttls, ssl or none"))
        problem = email_problem(settings.get("from_addr"))
        if problem:
            problems.append(_("from_addr: %(problem)s", problem=problem))
        if settings.get("test_to"):
            problem = email_problem(settings.get("test_to"))
            if problem:
                problems.append(_("test_to: %(problem)s", problem=problem))
        return problems

    def send(self, config, notification):
        if config is None:
            raise ChannelError(_("no e-mail server is configured"), permanent=True)
        settings = config.settings or {}
        problems = self.validate(settings, config.secret)
        if problems:
            raise ChannelError("; ".join(problems), permanent=True)
        to = notification.target
        problem = email_problem(to)
        if problem:
            raise ChannelError(problem, permanent=True)
        payload = notification.payload or {}
        message = EmailMessage()
        message["Subject"] = " ".join(str(payload.get("title", "")).split())[:200]
        message["From"] = formataddr((settings.get("from_name") or "", settings["from_addr"]))
        message["To"] = to
        message["Message-ID"] = make_msgid(domain=settings["from_addr"].rsplit("@", 1)[-1])
        message[IDEMPOTENCY_HEADER] = notification.idempotency_key
        message.set_content(plain_text(payload))
        self._smtp_send(settings, config.secret, message)

    def test(self, config):
        settings = config.settings or {}
        notification = test_notification(config, self.name)
        notification.target = settings.get("test_to") or settings.get("from_addr") or ""
        self.send(config, notification)

    def _smtp_send(self, settings, password, message):
        host, port = settings["host"], settings.get("port", 25)
        timeout = float(setting("NOTIFY_SMTP_TIMEOUT_SECONDS"))
        security = settings.get("security", "none")
        try:
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if settings.get("username"):
                    smtp.login(settings["username"], password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            raise ChannelError(_("the SMTP server %(host)s refused the log-in: %(reason)s", host=host,
                                 reason=_smtp_reason(error))) from None
        except smtplib.SMTPRecipientsRefused as error:
            raise ChannelError(_("the SMTP server %(host)s refused the recipient: %(reason)s", host=host,
                                 reason=_smtp_reason(error)), permanent=True) from None
        except smtplib.SMTPResponseException as error:
            raise ChannelError(_("the SMTP server %(host)s answered %(code)s: %(reason)s", host=host,
                                 code=error.smtp_code, reason=_smtp_reason(error))) from None
        except (smtplib.SMTPException, OSError) as error:
            raise ChannelError(_("cannot reach the SMTP server %(host)s:%(port)s: %(reason)s", host=host, port=port,
                                 reason=error)) from None
        if refused:
            raise ChannelError(_("the SMTP server %(host)s refused: %(who)s", host=host, who=", ".join(refused)),
                               permanent=True)


def _smtp_reason(error):
    detail = getattr(error, "smtp_error", b"")
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return detail or str(error)


class WeComChannel(Channel):
    """WeCom (企业微信) group robot: settings url (the webhook URL without the key); the secret
    is the robot's key. Body {"msgtype": "markdown", "markdown": {"content": …}}."""

    name = "wecom"
    default_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

    def url(self, config):
        base = (config.settings or {}).get("url") or self.default_url
        if "key=" in base or not config.secret:
            return base
        return base + ("&" if "?" in base else "?") + urllib.parse.urlencode({"key": config.secret})

    def validate(self, settings, secret):
        problems = []
        problem = url_problem(settings.get("url") or self.default_url)
        if problem:
            problems.append(_("url: %(problem)s", problem=problem))
        if not secret and "key=" not in str(settings.get("url") or ""):
            problems.append(_("secret: the robot's key is missing"))
        return problems

    def send(self, config, notification):
        body = {"msgtype": "markdown", "markdown": {"content": markdown_text(notification.payload or {})[:4000]}}
        answer = post_json(self.url(config), body, {IDEMPOTENCY_HEADER: notification.idempotency_key})
        check_errcode(answer, _("The WeCom robot"))


class WebhookChannel(Channel):
    """A generic JSON webhook. Body: event, idempotency_key, title, body, url, object, sent_at.
    Headers: X-Weibao-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>,
    X-Weibao-Timestamp (unix seconds, also inside the signed body), X-Weibao-Idempotency-Key."""

    name = "webhook"

    def validate(self, settings, secret):
        return signed_webhook_problems(settings, secret, _("secret: a signing secret is required"))

    def send(self, config, notification):
        settings = config.settings or {}
        problems = self.validate(settings, config.secret)
        if problems:
            raise ChannelError("; ".join(problems), permanent=True)
        payload = notification.payload or {}
        timestamp = str(int(time.time()))
        body = json.dumps({
            "event": notification.event, "idempotency_key": notification.idempotency_key,
            "title": payload.get("title", ""), "body": payload.get("body", ""), "url": payload.get("url", ""),
            "object": payload.get("object"), "urgent": bool(notification.urgent), "timestamp": int(timestamp),
        }, ensure_ascii=False, sort_keys=True).encode("utf-8")
        post_json(settings["url"], body, {
            SIGNATURE_HEADER: "sha256=" + sign_body(config.secret, body), TIMESTAMP_HEADER: timestamp,
            IDEMPOTENCY_HEADER: notification.idempotency_key,
        })


def sign_body(secret, body):
    """Hex HMAC-SHA256 of *body* with *secret* (what X-Weibao-Signature carries after sha256=)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


BUILTIN_CHANNELS = (InboxChannel(), EmailChannel(), WeComChannel(), WebhookChannel())
