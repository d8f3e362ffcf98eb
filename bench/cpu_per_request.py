"""CPU time per request of the measured pages, served in-process by the Flask test client.

    python bench/cpu_per_request.py                        # this checkout, bench/data/weibao-1000000.db
    git worktree add /tmp/before REV && python bench/cpu_per_request.py --root /tmp/before

Each page is served N times after a warm-up, three times over, in batches of 20; the cheapest
and the median batch's thread CPU time per request are reported. Unlike wrk's requests/s it counts only the request's own work (no server,
no GIL hand-overs, no client), and another process on the machine changes it little: the column to
compare code before and after a change. ``--root`` measures another checkout of the portal (a git
worktree of an earlier commit) against the same database.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PAGES = (("engineer queue", "cookie", "/tickets/queue"),
         ("admin ticket list p1", "cookie", "/admin/ticket_admin/"),
         ("admin ticket list page 99", "cookie", "/admin/ticket_admin/?page=99"),
         ("admin ticket list status filter", "cookie", "/admin/ticket_admin/?{filter}"),
         ("admin ticket list p1 (hospital IT)", "cookie-hospital", "/admin/ticket_admin/"),
         ("API ticket list", "token", "/api/v1/tickets"),
         ("ticket search API q=挂号", "token", "/api/v1/tickets?q=挂号"),
         ("ticket search API q=<no match>", "token", "/api/v1/tickets?q=不存在的故障描述"))


def measure(client, path, headers, requests, runs=3, warm_up=30, batch=20):
    """Thread-CPU milliseconds per request of the cheapest and of the median batch of *batch*
    requests, out of *runs* runs of *requests*. On a shared machine a neighbour's burst slows some
    batches, not all of them (best whole runs of 200 still varied by a third there): the cheapest
    batch is the steadiest measure of the code. The median is nearer what a server pays: a
    gunicorn worker spent 1.3 ms more per admin list page than the cheapest batch, and the mean of
    single requests in-process 1.2 ms more, with garbage collection only 0.2 ms of it."""
    for _ in range(warm_up):
        response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {response.status_code}")
    batches = []
    for _ in range(runs * max(1, requests // batch)):
        started = time.thread_time()
        for _ in range(batch):
            client.get(path, headers=headers)
        batches.append((time.thread_time() - started) / batch * 1000)
    batches.sort()
    return batches[0], batches[len(batches) // 2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(BENCH.parent), help="the portal checkout to measure")
    parser.add_argument("--db", default=None, help="database URL (default: the 1M SQLite benchmark file)")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    # The checkout's own harness (generate, run): run.py puts its checkout first on sys.path.
    sys.path[:0] = [args.root, str(Path(args.root) / "bench")]
    os.environ.setdefault("WEIBAO_BENCH_DATA", str(BENCH / "data"))
    import generate
    import run

    import portal

    if Path(portal.__file__).resolve().parents[1] != Path(args.root).resolve():
        raise SystemExit(f"measuring {portal.__file__}, not the checkout in {args.root}")

    url = args.db or generate.default_sqlite_url(1_000_000)
    app, info = run.prepare(url, 1)
    run.bind(url)
    clients = {"cookie": (run._login_test_client(app, run.READER), {}),
               "cookie-hospital": (run._login_test_client(app, run.HOSPITAL_READER), {}),
               "token": (app.test_client(), {"Authorization": f"Bearer {info['reader_token']}"})}
    cheapest, median = {}, {}
    for name, auth, path in PAGES:
        client, headers = clients[auth]
        best, middle = measure(client, path.format(filter=info["portal_filter"]), headers, args.requests)
        cheapest[name], median[name] = round(best, 3), round(middle, 3)
        print(f"{name:<40} {best:7.2f} ms CPU/request (median batch {middle:.2f})", flush=True)
    print(json.dumps({"root": args.root, "portal": portal.__file__, "url": url.split("@")[-1],
                      "ms_cpu_per_request": cheapest, "ms_cpu_per_request_median": median}, ensure_ascii=False))


if __name__ == "__main__":
    main()
