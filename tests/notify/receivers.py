"""Real receivers on 127.0.0.1 for the notification tests and the benchmark.

``HttpReceiver`` plays WeCom, DingTalk, Feishu and a generic webhook consumer: it VERIFIES each
vendor's message format and signature the way the vendor does (and refuses like the vendor,
HTTP 200 with an error code), and counts verified deliveries per idempotency key. It dedupes
by key as we tell receivers to: ``processed`` counts each key once, ``arrivals`` every copy.
``SmtpReceiver`` is an aiosmtpd server that keeps every message.
"""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from email import message_from_bytes
from email import policy
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

IDEMPOTENCY_HEADER = "X-Weibao-Idempotency-Key"


class HttpReceiver:
    def __init__(self, wecom_key="wecom-key-0123456789", dingtalk_secret="SECdingtalk0123456789abcdef",
                 feishu_secret="feishu-secret-0123456789", webhook_secret="webhook-secret-0123456789"):
        self.wecom_key = wecom_key
        self.dingtalk_secret = dingtalk_secret
        self.feishu_secret = feishu_secret
        self.webhook_secret = webhook_secret
        self.lock = threading.Lock()
        self.arrivals = Counter()  # verified deliveries per idempotency key (every copy)
        self.processed = Counter()  # per key, once: what a deduping receiver acts on
        self.by_kind = Counter()
        self.refused = []  # (kind, reason)
        self.failures_left = {}  # key -> how many more attempts to fail (the flaky endpoint)
        self.fail_first = 0
        self.bodies = []
        self.cut_off = 0  # requests whose sender died before the whole body arrived
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return None

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:
                    # The sender was killed mid-request (the kill/restart test does this on
                    # purpose). A real endpoint never gets such a request as a message, so it is
                    # neither delivered nor refused; the sender retries it after restart.
                    with receiver.lock:
                        receiver.cut_off += 1
                    self.close_connection = True
                    return
                status, answer = receiver.handle(self.path, self.headers, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ verification per vendor

    def handle(self, path, headers, raw):
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return self._refuse("json", "body is not JSON", 400, {"errcode": 40001, "errmsg": "invalid json"})
        key = headers.get(IDEMPOTENCY_HEADER, "")
        kind = parts.path.strip("/").split("/")[0]
        check = getattr(self, f"_check_{kind}", None)
        if check is None:
            return 404, {"error": "no such endpoint"}
        status, answer, ok = check(query, headers, raw, body, key)
        if ok:
            with self.lock:
                if self.failures_left.get(key, self.fail_first) > 0 and kind == "flaky":
                    self.failures_left[key] = self.failures_left.get(key, self.fail_first) - 1
                    return 503, {"error": "try again later"}
                self.arrivals[key] += 1
                if self.arrivals[key] == 1:
                    self.processed[key] += 1
                self.by_kind[kind] += 1
                self.bodies.append((kind, key, body))
        return status, answer

    def _refuse(self, kind, reason, status, answer):
        with self.lock:
            self.refused.append((kind, reason))
        return status, answer

    def _check_wecom(self, query, headers, raw, body, key):
        if query.get("key") != self.wecom_key:
            return (*self._refuse("wecom", "key", 200, {"errcode": 93000, "errmsg": "invalid webhook url"}), False)
        markdown = body.get("markdown") or {}
        if body.get("msgtype") != "markdown" or not isinstance(markdown.get("content"), str) or not markdown["content"]:
            return (*self._refuse("wecom", "format", 200, {"errcode": 40008, "errmsg": "invalid message type"}), False)
        return 200, {"errcode": 0, "errmsg": "ok"}, True

    def _check_dingtalk(self, query, headers, raw, body, key):
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        expected = base64.b64encode(hmac.new(self.dingtalk_secret.encode(), f"{timestamp}\n{self.dingtalk_secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and abs(int(timestamp) / 1000 - time.time()) < 3600
        if not query.get("access_token") or not fresh or not hmac.compare_digest(sign, expected):
            return (*self._refuse("dingtalk", "sign", 200, {"errcode": 310000, "errmsg": "sign not match"}), False)
        markdown = body.get("markdown") or {}
        if body.get("msgtype") != "markdown" or not markdown.get("title") or not markdown.get("text"):
            return (*self._refuse("dingtalk", "format", 200, {"errcode": 40035, "errmsg": "missing param"}), False)
        return 200, {"errcode": 0, "errmsg": "ok"}, True

    def _check_feishu(self, query, headers, raw, body, key):
        timestamp, sign = str(body.get("timestamp", "")), body.get("sign", "")
        expected = base64.b64encode(hmac.new(f"{timestamp}\n{self.feishu_secret}".encode(), b"",
                                             hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and abs(int(timestamp) - time.time()) < 3600
        if not fresh or not hmac.compare_digest(str(sign), expected):
            return (*self._refuse("feishu", "sign", 200,
                                  {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}),
                    False)
        kind = body.get("msg_type")
        good = (kind == "text" and isinstance((body.get("content") or {}).get("text"), str)) or (
            kind == "interactive" and isinstance(body.get("card"), dict) and body["card"].get("elements"))
        if not good:
            return (*self._refuse("feishu", "format", 200, {"code": 9499, "msg": "Bad Request"}), False)
        return 200, {"code": 0, "msg": "success"}, True

    def _check_webhook(self, query, headers, raw, body, key):
        expected = "sha256=" + hmac.new(self.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
        signature = headers.get("X-Weibao-Signature", "")
        stamp = headers.get("X-Weibao-Timestamp", "")
        if not hmac.compare_digest(signature, expected):
            return (*self._refuse("webhook", "signature", 401, {"error": "bad signature"}), False)
        if stamp != str(body.get("timestamp")) or body.get("idempotency_key") != key or not key:
            return (*self._refuse("webhook", "format", 400, {"error": "timestamp or key mismatch"}), False)
        return 200, {"ok": True}, True

    def _check_flaky(self, query, headers, raw, body, key):
        return self._check_webhook(query, headers, raw, body, key)

    def _check_fail(self, query, headers, raw, body, key):
        return 500, {"error": "always failing"}, False

    # ------------------------------------------------------------------ reading the counts

    def duplicates(self):
        return {key: n for key, n in self.arrivals.items() if n > 1}

    def wait_for(self, count, timeout=60.0, kind=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.processed if kind is None else [k for k, b in self.by_kind.items() if k == kind]) >= count:
                return True
            time.sleep(0.05)
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1: ``messages`` holds every parsed message."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.port = free_port()
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
                receiver.messages.append((list(envelope.rcpt_tos), message))
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def keys(self):
        return Counter(message[IDEMPOTENCY_HEADER] for _, message in self.messages)
