"""A real `weibao worker` process for the kill-and-restart tests and the benchmark."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ConsumerProcess:
    """``python -m portal.cli worker`` with the test's instance, database and queue."""

    def __init__(self, env, log_path, workers=4, worker_type="thread"):
        self.env = {**os.environ, **{k: str(v) for k, v in env.items()}}
        self.log_path = Path(log_path)
        self.workers = workers
        self.worker_type = worker_type
        self.process = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(self.log_path.with_suffix(f".{self.starts}.log"), "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "worker", "--workers", str(self.workers), "--max-delay", "0.2",
             "--worker-type", self.worker_type],
            env=self.env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def kill(self):
        """SIGKILL: no clean-up, tasks in flight are lost (huey is at-most-once)."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines=40):
        path = self.log_path.with_suffix(f".{self.starts}.log")
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def consumer_env(app, database_url, queue_url, **extra):
    """The WEIBAO_* environment that makes a worker process use the test app's files."""
    env = {
        "WEIBAO_INSTANCE_PATH": app.instance_path,
        "WEIBAO_DATABASE_URL": database_url,
        "WEIBAO_QUEUE_URL": queue_url,
        "WEIBAO_SECRET_KEY": "test-secret",
        "WEIBAO_PLUGINS": app.config.get("PLUGINS") or "",
        "WEIBAO_LOG_LEVEL": "WARNING",
    }
    for name in ("NOTIFY_SENDING_TIMEOUT_SECONDS", "NOTIFY_SWEEP_GRACE_SECONDS", "NOTIFY_BACKOFF_SECONDS",
                 "NOTIFY_MAX_ATTEMPTS"):
        env["WEIBAO_" + name] = app.config[name]
    env.update({"WEIBAO_" + k: v for k, v in extra.items()})
    return env


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
