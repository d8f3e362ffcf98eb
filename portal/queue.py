"""The huey queue: SqliteHuey in instance/queue.db by default, RedisHuey from WEIBAO_QUEUE_URL.

Tasks take primary keys and open their own connection inside an app context; they are
registered from the "task" and "periodic task" registries after every plugin has set up.

Several consumers may share one queue (scale-out: two `weibao worker` processes on Redis), each
with its own scheduler. Every scheduler asks for the periodic tasks due in the current minute;
:class:`WeibaoHuey` hands each task's minute to the first scheduler that claims it in the queue's
storage, so a periodic task runs once per minute however many consumers are up — and keeps
running while any one of them is.
"""

import logging
import os
from datetime import timedelta

from huey import Huey
from huey.consumer import Consumer
from huey.storage import RedisStorage
from huey.storage import SqliteStorage

from portal.db import db

log = logging.getLogger(__name__)

# A claim is only ever contested within its own minute (each scheduler asks about the minute its
# clock shows); an hour covers any clock skew between machines.
CLAIM_KEEP = timedelta(hours=1)


class WeibaoHuey(Huey):
    """huey whose schedulers enqueue each periodic task once per minute across all consumers."""

    def read_periodic(self, timestamp):
        """The periodic tasks due at *timestamp* whose minute this scheduler claimed first."""
        if timestamp is None:
            timestamp = self._get_timestamp()
        slot = timestamp.replace(second=0, microsecond=0)
        due = super().read_periodic(timestamp)
        mine = [task for task in due if self.claim_periodic(task.name, slot)]
        if due:
            log.info("periodic tasks of %s (pid %s): enqueued %s; already claimed: %s",
                     slot.strftime("%Y-%m-%dT%H:%M"), os.getpid(), _names(mine),
                     _names(task for task in due if task not in mine))
        return mine

    def claim_periodic(self, name, slot):
        """Claim task *name* for the minute *slot*; True for the one caller that got it."""
        key = f"periodic.{slot:%Y%m%d%H%M}.{name}"
        storage = self.storage
        if isinstance(storage, RedisStorage):
            # A plain key with an expiry (hash-field TTLs, which put_if_empty would need, are Redis 7.4+).
            return bool(storage.conn.set(f"{self.name}.{key}", os.getpid(), nx=True,
                                         ex=int(CLAIM_KEEP.total_seconds())))
        claimed = self.put_if_empty(key, os.getpid())
        if claimed and isinstance(storage, SqliteStorage):
            stale = f"periodic.{slot - CLAIM_KEEP:%Y%m%d%H%M}"
            storage.sql("delete from kv where queue = ? and key >= 'periodic.' and key < ?",
                        (storage.name, stale), commit=True)
        return claimed


def _names(tasks):
    return ", ".join(task.name for task in tasks) or "-"


def huey_for(url, instance_path, immediate=False, name="weibao"):
    """Build the huey instance for a WEIBAO_QUEUE_URL (None: instance/queue.db)."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return WeibaoHuey(name, url=url, immediate=immediate, storage_class=RedisStorage)
    if url and not url.startswith("sqlite:"):
        raise ValueError(f"unsupported WEIBAO_QUEUE_URL {url!r}; use redis://… or sqlite:///path")
    path = url.split("://", 1)[1] if url else os.path.join(instance_path, "queue.db")
    if not immediate:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return WeibaoHuey(name, filename=path, immediate=immediate, storage_class=SqliteStorage)


def init_queue(app):
    """Create this app's huey instance (immediate mode runs tasks inline, for tests).

    WEIBAO_QUEUE_NAME (default "weibao") keeps installations that share one Redis apart.
    """
    app.extensions["weibao"].huey = huey_for(app.config.get("QUEUE_URL"), app.instance_path,
                                             immediate=bool(app.config.get("QUEUE_IMMEDIATE")),
                                             name=app.config.get("QUEUE_NAME") or "weibao")


def _in_app(app, name, function):
    def run(*args, **kwargs):
        with app.app_context():
            db.connect(reuse_if_open=True)
            try:
                return function(*args, **kwargs)
            except Exception:
                log.exception("task %s failed", name)
                raise
            finally:
                if not db.in_transaction():
                    db.close()

    run.__name__ = name.replace(".", "_")
    return run


def init_tasks(app):
    """Register every task and periodic task with this app's huey."""
    state = app.extensions["weibao"]
    for name, (function, options) in state.registry("task").items():
        state.tasks[name] = state.huey.task(name=name, **options)(_in_app(app, name, function))
    for name, (schedule, function) in state.registry("periodic task").items():
        state.tasks[name] = state.huey.periodic_task(schedule, name=name)(_in_app(app, name, function))


def enqueue(app, name, *args, **kwargs):
    """Queue the task called *name* (inline in immediate mode); return huey's result handle."""
    return app.extensions["weibao"].tasks[name](*args, **kwargs)


def start_embedded_consumer(app, workers=2):
    """Run the consumer's worker and scheduler threads inside this process (embedded default).

    The threads are started directly rather than through Consumer.start(), which would take
    over the process's signal handlers from the web server.
    """
    consumer = Consumer(app.extensions["weibao"].huey, workers=workers, worker_type="thread", periodic=True)
    consumer.scheduler.start()
    for _, worker in consumer.worker_threads:
        worker.start()
    return consumer
