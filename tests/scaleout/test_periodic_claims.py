"""Each periodic task's minute is claimed by one scheduler: two consumers on one queue (each with
its scheduler, as two `weibao worker` processes are) enqueue a periodic task once per minute, not
twice. The real two-process run is in test_scaleout.py; this checks the claim on both storages."""

import uuid
from datetime import datetime
from datetime import timedelta

import pytest
from huey import crontab

from portal.queue import huey_for
from tests.conftest import service_url

NINE_OH_SEVEN = datetime(2026, 5, 1, 9, 7, 5)


def _consumer(url, tmp_path, name):
    huey = huey_for(url, str(tmp_path), name=name)
    huey.periodic_task(crontab(), name="test.every_minute")(lambda: None)
    huey.periodic_task(crontab(minute="7"), name="test.hourly")(lambda: None)
    return huey


@pytest.fixture(params=["sqlite", "redis"])
def consumers(request, tmp_path):
    url = "sqlite://" + str(tmp_path / "queue.db")
    if request.param == "redis":
        url = service_url("WEIBAO_TEST_REDIS_URL")
    name = f"weibao-claims-{uuid.uuid4().hex[:8]}"
    first, second = _consumer(url, tmp_path, name), _consumer(url, tmp_path, name)
    yield first, second
    first.flush()
    if request.param == "redis":
        for key in first.storage.conn.scan_iter(f"{name}.periodic.*"):
            first.storage.conn.delete(key)


def _names(tasks):
    return sorted(task.name for task in tasks)


def test_two_schedulers_enqueue_each_periodic_task_once_per_minute(consumers):
    first, second = consumers
    assert _names(first.read_periodic(NINE_OH_SEVEN)) == ["test.every_minute", "test.hourly"]
    # The other scheduler, and the same one again, within the same minute: nothing left to enqueue.
    assert second.read_periodic(NINE_OH_SEVEN + timedelta(seconds=20)) == []
    assert first.read_periodic(NINE_OH_SEVEN + timedelta(seconds=40)) == []
    # The next minute goes to whichever scheduler asks first; the hourly task is not due then.
    assert _names(second.read_periodic(NINE_OH_SEVEN + timedelta(minutes=1))) == ["test.every_minute"]
    assert first.read_periodic(NINE_OH_SEVEN + timedelta(minutes=1, seconds=30)) == []
    # An hour later both are due again, and again only once.
    hour_later = NINE_OH_SEVEN + timedelta(hours=1)
    assert _names(first.read_periodic(hour_later)) + _names(second.read_periodic(hour_later)) == [
        "test.every_minute", "test.hourly"]


def test_sqlite_claims_are_pruned_after_an_hour(tmp_path):
    huey = _consumer("sqlite://" + str(tmp_path / "queue.db"), tmp_path, "weibao")
    for minutes in range(0, 180, 30):
        huey.read_periodic(NINE_OH_SEVEN + timedelta(minutes=minutes))
    keys = [key for (key,) in huey.storage.sql("select key from kv where queue = ?", ("weibao",), results=True)]
    # Claims from the last hour only (11:37 back to 10:37), never the whole history.
    assert sorted(keys) == ["periodic.202605011037.test.every_minute", "periodic.202605011107.test.every_minute",
                            "periodic.202605011107.test.hourly", "periodic.202605011137.test.every_minute"]


def test_immediate_mode_still_runs_periodic_tasks_on_demand(tmp_path):
    huey = huey_for(None, str(tmp_path), immediate=True)
    huey.periodic_task(crontab(), name="test.every_minute")(lambda: None)
    assert _names(huey.read_periodic(NINE_OH_SEVEN)) == ["test.every_minute"]
