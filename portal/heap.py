"""Keep the garbage collector off what start-up built, in the processes that serve requests.

CPython's full collections walk every tracked object, and a serving process holds a great many
long-lived ones (the app, flask-admin's views, compiled templates, catalogs, peewee's models).
Measured serving the admin ticket list at 1M tickets (bench/README.md): a full collection came
about every 70 requests, took ~80 ms and stopped every thread — a tenth of the run, and the
p99 of every list page. ``gc.freeze()`` moves everything alive at that moment out of the
collector's generations; what requests build afterwards is collected as before, and reference
counting still frees frozen objects that are dropped.

Only servers call it (``weibao run``/``demo``, each gunicorn worker): the test suite builds
hundreds of apps in one process, and freezing there would keep every one of them.
"""

import gc

#: How long a server waits for its warm-up threads (jieba's dictionary: 0.6–9 s) before freezing;
#: under gunicorn's default 30 s worker timeout, which a booting worker must stay within.
WARM_UP_WAIT_S = 20


def freeze_start_up(app):
    """Wait for *app*'s warm-up threads, collect once, and freeze what is alive."""
    for thread in app.extensions["weibao"].warm_ups:
        if thread is not None:
            thread.join(WARM_UP_WAIT_S)
    gc.collect()
    gc.freeze()
