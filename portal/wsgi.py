"""The WSGI entry point for running several web processes (scale-out) under gunicorn:

    weibao init                                   # migrations run here, never at a worker's start
    gunicorn --workers 4 --bind 127.0.0.1:8000 'portal.wsgi:app'
    weibao worker                                 # one or more, beside the web processes

No queue consumer runs in these processes: the `weibao worker` processes consume the queue
(WEIBAO_QUEUE_URL=redis://… when they run on other machines). Each gunicorn worker imports this
module after the fork and builds its own app, connections and jieba tokenizer; with --preload the
master would build them once and fork open connections, held locks and the half-done warm-up
thread into every worker, so do not use it.
"""

from portal import create_app
from portal.heap import freeze_start_up
from portal.migrations import NEEDS_INIT
from portal.migrations import pending_migrations

app = create_app()
if pending_migrations(app):
    # Raised at import: gunicorn reports the worker failed to boot and stops, instead of serving
    # a schema the code does not match.
    raise RuntimeError(NEEDS_INIT)
freeze_start_up(app)
