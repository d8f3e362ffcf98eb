"""The huey queue: SqliteHuey in instance/queue.db by default, RedisHuey from WEIBAO_QUEUE_URL.

Tasks take primary keys and open their own connection inside an app context; they are
registered from the "task" and "periodic task" registries after every plugin has set up.
"""

import logging
import os

from huey import RedisHuey
from huey import SqliteHuey
from huey.consumer import Consumer

from portal.db import db

log = logging.getLogger(__name__)


def huey_for(url, instance_path, immediate=False):
    """Build the huey instance for a WEIBAO_QUEUE_URL (None: instance/queue.db)."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("weibao", url=url, immediate=immediate)
    if url and not url.startswith("sqlite:"):
        raise ValueError(f"unsupported WEIBAO_QUEUE_URL {url!r}; use redis://… or sqlite:///path")
    path = url.split("://", 1)[1] if url else os.path.join(instance_path, "queue.db")
    if not immediate:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return SqliteHuey("weibao", filename=path, immediate=immediate)


def init_queue(app):
    """Create this app's huey instance (immediate mode runs tasks inline, for tests)."""
    app.extensions["weibao"].huey = huey_for(app.config.get("QUEUE_URL"), app.instance_path,
                                             immediate=bool(app.config.get("QUEUE_IMMEDIATE")))


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
