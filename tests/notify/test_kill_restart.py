"""Kill-and-restart with a real consumer process: 500 notifications, SIGKILL mid-burst, restart,
the sweeper recovers what the dead process held → 500 of 500 delivered, none processed twice.

huey alone is at-most-once (DESIGN §10 measured 4 of 20 lost); the outbox + idempotent claim +
sweeper must lose nothing. Runs on the SQLite queue and on Redis (WEIBAO_TEST_REDIS_URL; in CI a
missing Redis fails through service_url).
"""

import time

import pytest

from portal.accounts.models import utcnow
from portal.db import db
from portal.notify import outbox
from portal.notify.models import Notification
from tests.conftest import service_url
from tests.notify.conftest import NOTIFY_TEST_CONFIG
from tests.notify.conftest import add_config
from tests.notify.consumer import ConsumerProcess
from tests.notify.consumer import consumer_env
from tests.notify.consumer import wait_until

BURST = 500
SENDING_TIMEOUT = 3


def _queue_url(kind, tmp_path):
    if kind == "sqlite":
        return "sqlite://" + str(tmp_path / "queue.db")
    return service_url("WEIBAO_TEST_REDIS_URL")


@pytest.fixture
def queued_app(request, make_app, tmp_path, database_url):
    kind = request.param
    url = _queue_url(kind, tmp_path)
    app = make_app(**{**NOTIFY_TEST_CONFIG, "QUEUE_IMMEDIATE": False, "QUEUE_URL": url,
                      "NOTIFY_SENDING_TIMEOUT_SECONDS": SENDING_TIMEOUT, "NOTIFY_BACKOFF_SECONDS": 0.3})
    huey = app.extensions["weibao"].huey
    huey.flush()  # a shared Redis may hold an earlier run's tasks
    yield app, url
    huey.flush()
    if not db.is_closed():
        db.close()


def _statuses(app):
    with app.app_context():
        rows = Notification.select(Notification.status).tuples()
        counts = {}
        for (status,) in rows:
            counts[status] = counts.get(status, 0) + 1
        db.close()
        return counts


def _burst(app, config, prefix, count, chunk=100):
    with app.app_context():
        for start in range(0, count, chunk):
            with db.atomic():
                for n in range(start, min(start + chunk, count)):
                    outbox.notify("ticket_created", None, config.kind, {"title": f"#{n}", "body": "burst"},
                                  f"{prefix}:{n}", config=config)
        db.close()


def _sweep_until_done(app, receiver, keys, consumer, total, timeout=90):
    """The sweeper's work, as the periodic task does it every minute (called here every second),
    until the receiver has every key and every row is marked sent.

    A row the killed process had sent but not yet marked stays 'sending' until a sweep finds it
    stale; the receiver may already hold its key, so "every key arrived" alone is not done.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            outbox.sweep()
            db.close()
        if all(receiver.processed[key] for key in keys) and _statuses(app).get("sent", 0) == total:
            return True
        assert consumer.alive(), consumer.log_tail()
        time.sleep(1.0)
    return False


QUEUES = [pytest.param("sqlite", id="sqlite-queue"), pytest.param("redis", id="redis-queue", marks=pytest.mark.redis)]


@pytest.mark.slow
@pytest.mark.parametrize("queued_app", QUEUES, indirect=True)
def test_sigkill_mid_burst_then_restart_delivers_every_notification_once(queued_app, receiver, database_url, tmp_path):
    app, queue_url = queued_app
    with app.app_context():
        config = add_config("burst-hook", "webhook", {"url": receiver.url + "/webhook"}, receiver.webhook_secret)
        db.close()
    consumer = ConsumerProcess(consumer_env(app, database_url, queue_url), tmp_path / "worker").start()
    try:
        _burst(app, config, "warm", 1)
        assert wait_until(lambda: receiver.processed["warm:0"] == 1, 60), consumer.log_tail()
        keys = [f"burst:{n}" for n in range(BURST)]
        _burst(app, config, "burst", BURST)
        assert wait_until(lambda: len(receiver.processed) > 1 + BURST // 4, 60), consumer.log_tail()
        consumer.kill()
        delivered_at_kill = len(receiver.processed) - 1
        at_kill = _statuses(app)
        assert delivered_at_kill < BURST, "the kill came after the burst: not a mid-burst kill"
        consumer.start()
        time.sleep(SENDING_TIMEOUT + 0.5)  # rows the dead process held go stale
        assert _sweep_until_done(app, receiver, keys, consumer, BURST + 1), (_statuses(app), consumer.log_tail())
    finally:
        consumer.stop()
    assert sum(receiver.processed[key] for key in keys) == BURST  # every one, each processed once
    duplicates = receiver.duplicates()
    # A copy can only come from a row killed between "the receiver accepted" and "marked sent":
    # at most the rows that were 'sending' at the kill (the receiver dedupes them by key).
    assert len(duplicates) <= at_kill.get("sending", 0), (duplicates, at_kill)
    print(f"\n{queue_url.split(':')[0]} queue: delivered before kill {delivered_at_kill}, at kill {at_kill}, "
          f"duplicate copies {len(duplicates)}")
    assert receiver.refused == []


@pytest.mark.slow
@pytest.mark.parametrize("queued_app", QUEUES, indirect=True)
def test_flaky_receiver_gets_each_message_once_through_a_real_consumer(queued_app, receiver, database_url, tmp_path):
    app, queue_url = queued_app
    receiver.fail_first = 3
    with app.app_context():
        config = add_config("flaky-hook", "webhook", {"url": receiver.url + "/flaky"}, receiver.webhook_secret)
        db.close()
    consumer = ConsumerProcess(consumer_env(app, database_url, queue_url), tmp_path / "worker").start()
    try:
        _burst(app, config, "flaky", 20)
        # Retries come from huey's schedule (backoff 0.3, 0.6, 1.2 s), not from the sweeper.
        assert wait_until(lambda: len(receiver.processed) == 20, 60), (_statuses(app), consumer.log_tail())
    finally:
        consumer.stop()
    with app.app_context():
        attempts = {row.attempts for row in Notification.select()}
        assert {row.status for row in Notification.select()} == {"sent"}
    assert attempts == {4}
    assert all(n == 1 for n in receiver.arrivals.values()) and len(receiver.arrivals) == 20
    assert utcnow() is not None
