"""Servers freeze what start-up built (portal/heap.py), after their warm-up threads are done."""

import gc
import threading

from portal.heap import freeze_start_up


def test_freeze_waits_for_warm_up_and_moves_start_up_objects_out_of_the_collector(app):
    done = []
    warm_up = threading.Thread(target=lambda: done.append([{"jieba": index} for index in range(1000)]))
    app.extensions["weibao"].warm_ups.append(warm_up)
    warm_up.start()
    frozen_before = gc.get_freeze_count()
    try:
        freeze_start_up(app)
        assert done, "the warm-up thread was not waited for"
        assert gc.get_freeze_count() > frozen_before + 1000  # the app and what the warm-up built
        assert not any(isinstance(item, dict) and "jieba" in item for item in gc.get_objects())
    finally:
        gc.unfreeze()  # the suite builds hundreds of apps in this process: let them be collected

