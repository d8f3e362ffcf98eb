"""Notifications delivered per second, end to end: outbox rows written and committed → after-commit
enqueue → a real `weibao worker` process → signed webhook POST to a local receiver → marked sent.

Runs on the SQLite queue (instance/queue.db) and on Redis (WEIBAO_BENCH_REDIS_URL, default
redis://127.0.0.1:6379/6; skipped with a note when unreachable), on a fresh SQLite database (or
WEIBAO_BENCH_DATABASE_URL). Prints a table and writes bench/results/notify.json.

    /work/venv/bin/python bench/notify_bench.py [--count 2000] [--workers 4]
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.db import db  # noqa: E402
from portal.migrations import upgrade  # noqa: E402
from portal.notify import outbox  # noqa: E402
from portal.notify.models import ChannelConfig  # noqa: E402
from portal.notify.models import Notification  # noqa: E402
from tests.notify.consumer import ConsumerProcess  # noqa: E402
from tests.notify.consumer import consumer_env  # noqa: E402
from tests.notify.consumer import wait_until  # noqa: E402
from tests.notify.receivers import HttpReceiver  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "notify.json"


def build_app(folder, queue_url, database_url):
    os.environ["WEIBAO_INSTANCE_PATH"] = str(folder)
    config = {"DATABASE_URL": database_url, "QUEUE_URL": queue_url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
              "NOTIFY_SENDING_TIMEOUT_SECONDS": 300, "NOTIFY_SWEEP_GRACE_SECONDS": 60, "NOTIFY_BACKOFF_SECONDS": 1}
    app = create_app(config)
    with app.app_context():
        db.connect(reuse_if_open=True)
        upgrade([plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()])
        db.close()
    app.extensions["weibao"].huey.flush()
    return app


def write_burst(app, config, prefix, count, chunk):
    with app.app_context():
        for start in range(0, count, chunk):
            with db.atomic():
                for n in range(start, min(start + chunk, count)):
                    outbox.notify("ticket_created", None, "webhook", {"title": f"#{n}", "body": "bench"},
                                  f"{prefix}:{n}", config=config)
        db.close()


def run(label, queue_url, database_url, count, workers, chunk, worker_type="thread"):
    folder = Path(tempfile.mkdtemp(prefix=f"notify-bench-{label}-"))
    database_url = database_url or "sqlite:///" + str(folder / "weibao.db")
    app = build_app(folder, queue_url, database_url)
    receiver = HttpReceiver().start()
    with app.app_context():
        config = ChannelConfig.create(name="bench", kind="webhook", settings={"url": receiver.url + "/webhook"},
                                      secret=receiver.webhook_secret)
        db.close()
    consumer = ConsumerProcess(consumer_env(app, database_url, queue_url), folder / "worker", workers=workers,
                               worker_type=worker_type).start()
    try:
        write_burst(app, config, "warm", 20, chunk)
        if not wait_until(lambda: len(receiver.processed) >= 20, 60):
            raise RuntimeError(f"the worker delivered nothing:\n{consumer.log_tail()}")
        started = time.perf_counter()
        write_burst(app, config, "bench", count, chunk)
        written = time.perf_counter() - started
        done = wait_until(lambda: len(receiver.processed) >= 20 + count, 600, interval=0.01)
        elapsed = time.perf_counter() - started
    finally:
        consumer.stop()
        receiver.stop()
    with app.app_context():
        sent = Notification.select().where(Notification.status == "sent").count()
        db.close()
    return {
        "queue": label, "database": database_url.split(":", 1)[0], "notifications": count, "workers": workers,
        "worker_type": worker_type,
        "write_seconds": round(written, 3), "writes_per_second": round(count / written, 1),
        "end_to_end_seconds": round(elapsed, 3), "delivered_per_second": round(count / elapsed, 1),
        "all_delivered": bool(done), "sent_rows": sent - 20, "duplicate_copies": len(receiver.duplicates()),
        "refused": len(receiver.refused),
    }


def redis_reachable(url):
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # any failure means: no Redis to measure
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=100, help="notifications per transaction")
    args = parser.parse_args()
    database_url = os.environ.get("WEIBAO_BENCH_DATABASE_URL")
    redis_url = os.environ.get("WEIBAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    rows, notes = [], []
    for worker_type in ("thread", "process"):
        with tempfile.TemporaryDirectory() as folder:
            rows.append(run("sqlite", "sqlite://" + str(Path(folder) / "queue.db"), database_url, args.count,
                            args.workers, args.chunk, worker_type))
        if redis_reachable(redis_url):
            rows.append(run("redis", redis_url, database_url, args.count, args.workers, args.chunk, worker_type))
    if not redis_reachable(redis_url):
        notes.append(f"Redis at {redis_url} not reachable: not measured")
    header = ("queue", "database", "notifications", "workers", "worker_type", "writes_per_second", "delivered_per_second",
              "end_to_end_seconds", "all_delivered", "duplicate_copies")
    print(" | ".join(f"{h:>11.11}" for h in header))
    for row in rows:
        print(" | ".join(f"{str(row[h]):>11}" for h in header))
    for note in notes:
        print(note)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "notify end-to-end delivery (outbox → huey → worker process → signed webhook → sent)",
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "results": rows, "notes": notes,
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")
    return 0 if all(row["all_delivered"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
