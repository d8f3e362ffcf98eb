"""Measure the portal at scale, side by side with a bare Flask route and a stock flask-admin view.

    python bench/run.py --quick          # 100k tickets, short runs, SQLite and PostgreSQL (a few minutes)
    python bench/run.py                  # 1M tickets, 20 s per page, 60 s write run
    python bench/run.py --smoke --out /tmp/x.json   # tiny, for the test suite (no timing claims)

For each backend: generate (or reuse) the database (bench/generate.py), count SQL statements
per page in-process (bench/querycount.py) with the plans of the slowest ticket queries, start the
three servers (bench/servers.py: bare hello, stock flask-admin, the portal; waitress, N threads,
127.0.0.1), run wrk on each page, read the portal's VmRSS, run the 50-user write run and check
that every acknowledged write is stored. Prints a table; writes bench/results/latest.json.

    python bench/run.py --backends postgres --server gunicorn   # the portal scaled out (README)

serves the portal as gunicorn --workers 4 'portal.wsgi:app' plus two `weibao worker` processes
on Redis (--redis-url) instead of one waitress process; its RSS is then the sum of all of them.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime
from datetime import timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import load  # noqa: E402
import report  # noqa: E402
import servers as scaleout  # noqa: E402
from load import Target  # noqa: E402

from portal.cli import THREADS  # noqa: E402

SEARCH_COMMON = "挂号"
SEARCH_RARE = "不存在的故障描述"
KB_QUERY = "医保结算"
OPTIONAL_SECTIONS = ("kb_search", "forms_bench", "notify_bench", "reports_bench")
SLOW_MAX_S = 60
# --server gunicorn: the scale-out of README "Scale-out" (4 web processes, 2 queue workers).
SCALEOUT_WEB = 4
SCALEOUT_QUEUE_WORKERS = 2
SCALEOUT_QUEUE = "weibao-bench"
READER = "pm01"  # the vendor's project manager: sees all 100 hospitals (the multi-hospital install)
HOSPITAL_READER = "xxk001"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bind(url):
    """Bind portal.db's proxy to *url* in this process (the in-process checks use it)."""
    from portal.db import database_for
    from portal.db import db

    if db.obj is not None and not db.is_closed():
        db.close()
    db.initialize(database_for(url, str(generate.DATA / "instance")))
    db.connect(reuse_if_open=True)
    return db


# --- preparing: tokens, ids, in-process query counts and plans ----------------------------------


def prepare(url, users):
    from portal.accounts.commands import create_token
    from portal.contracts.models import Contract
    from portal.db import db
    from portal.tickets.models import Ticket

    app = generate.make_app(url)
    with app.app_context():
        db.connect(reuse_if_open=True)
        info = {
            "reader_token": create_token(READER, name="bench"),
            "writer_tokens": [create_token(f"eng{index:02d}", name="bench") for index in range(1, users + 1)],
            "max_id": Ticket.select(Ticket.id).order_by(Ticket.id.desc()).first().id,
            "tickets": Ticket.select().count(),
            "contracts": [c.id for c in Contract.select(Contract.id).order_by(Contract.id)],
        }
        view = next(v for v in app.extensions["weibao"].admin._views if v.endpoint == "ticket_admin")
        info["portal_filter"] = _status_filter(view)
        # A rare status, two pages in: walked every ticket of the vendor before its index (0.1-0.8 s a page at 1M).
        info["portal_rare_filter"] = f"{_status_filter(view, 'waiting_authorization')}&page=2"
        info["dashboard"] = next((rule.rule for rule in app.url_map.iter_rules()
                                  if "dashboard" in rule.endpoint and "GET" in rule.methods and not rule.arguments), None)
        db.close()
    return app, info


def _status_filter(view, status="in_progress"):
    from portal.tickets.models import Ticket

    for key, (_index, flt) in view._filter_args.items():
        if getattr(flt, "column", None) is Ticket.status and type(flt).__name__ == "FilterEqual":
            return f"flt0_{key}={status}"
    return None


def targets(info, quick_deep_fraction=0.5):
    token = {"Authorization": f"Bearer {info['reader_token']}"}
    from portal.tickets.admin import MAX_PAGE

    # The portal answers pages up to MAX_PAGE - 1 (0-based; deeper ones redirect there with a hint
    # to filter); the stock view is measured at the same row offset.
    deep_portal = min(MAX_PAGE - 1, max(1, int(info["tickets"] * quick_deep_fraction) // 50))
    deep_stock = deep_portal * 50 // 20
    body = json.dumps({"contract_id": "{contract}", "title": "压测登记 {n} 门诊收费系统结算卡死", "category": "fault",
                       "priority": "P3", "description": "收费室2号窗口点“结算”后界面无响应。",
                       "reporter_name": "覃医生", "reporter_department": "门诊部"}, ensure_ascii=False)
    body = body.replace('"{contract}"', "{contract}")
    contracts = (info["contracts"][0], info["contracts"][-1])
    items = [
        Target("bare Flask hello (ceiling)", "hello", "/"),
        Target("stock ModelView: list p1", "reference", "/admin/ticket/"),
        Target(f"stock ModelView: page {deep_stock}", "reference", f"/admin/ticket/?page={deep_stock}"),
        Target("stock ModelView: status filter", "reference", f"/admin/ticket_search/?{info['stock_filter']}"),
        Target(f"stock ModelView: search {SEARCH_COMMON}", "reference", f"/admin/ticket_search/?search={SEARCH_COMMON}"),
        Target("engineer queue /tickets/queue", "portal", "/tickets/queue", auth="cookie", peer="stock ModelView: list p1"),
        Target("admin ticket list p1", "portal", "/admin/ticket_admin/", auth="cookie", peer="stock ModelView: list p1"),
        Target(f"admin ticket list page {deep_portal}", "portal", f"/admin/ticket_admin/?page={deep_portal}",
               auth="cookie", peer=f"stock ModelView: page {deep_stock}"),
        Target("admin ticket list status filter", "portal", f"/admin/ticket_admin/?{info['portal_filter']}",
               auth="cookie", peer="stock ModelView: status filter"),
        Target("admin ticket list status 待授权 p3", "portal", f"/admin/ticket_admin/?{info['portal_rare_filter']}",
               auth="cookie", peer="stock ModelView: status filter"),
        Target("admin ticket list p1 (hospital IT)", "portal", "/admin/ticket_admin/", auth="cookie-hospital",
               peer="stock ModelView: list p1"),
        Target(f"ticket search API q={SEARCH_COMMON}", "portal", f"/api/v1/tickets?q={SEARCH_COMMON}", headers=token,
               auth="token", peer=f"stock ModelView: search {SEARCH_COMMON}"),
        Target("ticket search API q=<no match>", "portal", f"/api/v1/tickets?q={SEARCH_RARE}", headers=token,
               auth="token", peer=f"stock ModelView: search {SEARCH_COMMON}"),
        Target("ticket details /tickets/<random id>", "portal", "/tickets/{id}", auth="cookie",
               random_ids=(1, info["max_id"]), peer="stock ModelView: list p1"),
        Target("API ticket list /api/v1/tickets", "portal", "/api/v1/tickets", headers=token, auth="token",
               peer="stock ModelView: list p1"),
        Target("ticket creation POST /api/v1/tickets", "portal", "/api/v1/tickets", method="POST",
               headers={**token, "Content-Type": "application/json"}, body=body, expected=201, contracts=contracts,
               auth="token", peer="stock ModelView: list p1"),
        Target(f"KB search /kb/?q={KB_QUERY}", "portal", f"/kb/?q={KB_QUERY}", auth="cookie",
               peer="stock ModelView: list p1"),
    ]
    if info.get("dashboard"):
        items.append(Target("dashboard", "portal", info["dashboard"], auth="cookie", peer="stock ModelView: list p1"))
    return items


def _login_test_client(app, username):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"username": username, "password": generate.PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"log-in as {username} failed in-process: {response.status_code}")
    return client


def count_and_explain(url, app, items, info):
    """SQL statements per page (in-process test client) and the plans of the slowest queries."""
    from querycount import count_queries

    from portal.db import is_sqlite

    counts, plans = {}, {}
    clients = {}
    bind(url)
    clients["cookie"] = _login_test_client(app, READER)  # no app context held: requests must not share g
    clients["cookie-hospital"] = _login_test_client(app, HOSPITAL_READER)
    clients["token"] = clients["none"] = app.test_client()
    reference = None
    for item in items:
        if item.server == "hello":
            counts[item.name] = 0
            continue
        if item.server == "reference":
            if reference is None:
                from reference_app import create_reference_app

                reference = create_reference_app(url, str(generate.DATA / "instance")).test_client()
            client = reference
        else:
            client = clients[item.auth]
            bind(url)
        path = item.path.replace("{id}", str(info["max_id"] // 2))
        body = item.body.replace("{n}", "qc").replace("{contract}", str(info["contracts"][0])) if item.body else None
        with count_queries() as log:
            response = client.open(path, method=item.method, headers=item.headers, data=body)
        counts[item.name] = len(log)
        if response.status_code != item.expected:
            counts[item.name + " (status)"] = response.status_code
        plans[item.name] = _slowest_with_plans(log, is_sqlite())
    bind(url)
    return counts, plans


def _slowest_with_plans(log, sqlite, keep=2):
    from portal.db import db

    timed = []
    seen = set()
    for sql, params in log.statements:
        if not sql.lstrip().upper().startswith("SELECT") or sql in seen:
            continue
        seen.add(sql)
        started = time.perf_counter()
        try:
            db.execute_sql(sql, params).fetchall()
        except Exception:  # noqa: BLE001 - a plan we cannot re-run is skipped
            continue
        timed.append((time.perf_counter() - started, sql, params))
    timed.sort(reverse=True)
    out = []
    for elapsed, sql, params in timed[:keep]:
        if sqlite:
            plan = [row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        else:
            plan = [row[0] for row in db.execute_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()]
        out.append({"ms": round(elapsed * 1000, 1), "sql": _inline(sql, params)[:1500], "plan": plan})
    return out


def _inline(sql, params):
    text = sql
    for value in params or ():
        text = re.sub(r"\?|%s", lambda _m, v=value: repr(v), text, count=1)
    return text


# --- servers ------------------------------------------------------------------------------------


class Servers:
    """The three servers on waitress (`weibao run`'s way), or all three under gunicorn with the
    same workers (*gunicorn*: the portal then as README "Scale-out" runs it, with `weibao worker`
    processes on Redis beside PostgreSQL, or on the SQLite queue beside SQLite)."""

    def __init__(self, url, threads, log, gunicorn=None):
        self.url, self.threads, self.log, self.gunicorn = url, threads, log, gunicorn
        self.procs, self.ports, self.cluster = {}, {}, None

    def start(self):
        env = {**os.environ, "WEIBAO_BENCH_DATA": str(generate.DATA), "WEIBAO_BENCH_DB": self.url,
               "XDG_RUNTIME_DIR": str(generate.DATA)}  # gunicorn's control socket
        if self.gunicorn:
            self._start_scaleout()
        for kind in ("hello", "reference") if self.gunicorn else ("hello", "reference", "portal"):
            port = free_port()
            if self.gunicorn:
                command = [sys.executable, "-m", "gunicorn", "--workers", str(self.gunicorn["web"]),
                           "--bind", f"127.0.0.1:{port}", "--chdir", str(BENCH), f"servers:peer_app({kind!r})"]
            else:
                command = [sys.executable, str(BENCH / "servers.py"), kind, "--port", str(port), "--threads",
                           str(self.threads)] + (["--db", self.url] if kind != "hello" else [])
            self.procs[kind] = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                                stderr=open(generate.DATA / f"server-{kind}.log", "w"))
            self.ports[kind] = port
        import requests

        for kind in self.procs:
            port = self.ports[kind]
            deadline = time.time() + 120
            while True:
                try:
                    requests.get(f"http://127.0.0.1:{port}/", timeout=5, allow_redirects=False)
                    break
                except requests.RequestException:
                    if self.procs[kind].poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"{kind} server did not start; see {generate.DATA}/server-{kind}.log")
                    time.sleep(0.3)

    def _start_scaleout(self):
        env = {"WEIBAO_DATABASE_URL": self.url, "WEIBAO_INSTANCE_PATH": str(generate.DATA / "instance-scaleout")}
        redis_url = self.gunicorn.get("redis_url")
        if redis_url:
            from portal.queue import huey_for

            huey_for(redis_url, None, name=SCALEOUT_QUEUE).flush()  # an earlier run's leftover tasks
            env.update(WEIBAO_QUEUE_URL=redis_url, WEIBAO_QUEUE_NAME=SCALEOUT_QUEUE)
        self.cluster = scaleout.ScaleOut(env, free_port(), generate.DATA / "scaleout-logs", web=self.gunicorn["web"],
                                         queue=self.gunicorn["queue"]).start()
        self.ports["portal"] = self.cluster.port
        try:
            self.cluster.wait_ready(timeout=300)
        except RuntimeError:
            self.cluster.stop()
            raise

    def pids(self):
        """Every server process: the three waitress servers, or the scale-out's processes."""
        pids = [proc.pid for proc in self.procs.values()]
        children = [child for pid in pids for child in report.child_pids(pid)]  # gunicorn's workers
        return pids + children + (self.cluster.pids() if self.cluster else [])

    def portal_rss(self):
        """The portal's resident memory in MB: its process, or all of the scale-out's processes."""
        pids = self.cluster.pids() if self.cluster else [self.procs["portal"].pid]
        sizes = [report.rss_mb(pid) for pid in pids]
        return round(sum(size for size in sizes if size), 1) if any(sizes) else None

    def base(self, kind):
        return f"http://127.0.0.1:{self.ports[kind]}"

    def stop(self):
        if self.cluster is not None:
            self.cluster.stop()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def login_cookie(base, username):
    import requests

    session = requests.Session()
    html = session.get(base + "/login", timeout=300).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = session.post(base + "/login", data={"username": username, "password": generate.PASSWORD,
                                                   "csrf_token": token}, allow_redirects=False, timeout=60)
    if response.status_code != 302:
        raise RuntimeError(f"log-in as {username} failed: HTTP {response.status_code}")
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def wait_until_idle(base, timeout=600):
    """After a run against slow pages the server still works through queued requests: wait until
    a cheap request is answered promptly again, so the next page is measured on an idle server."""
    import requests

    deadline = time.time() + timeout
    while time.time() < deadline:
        started = time.perf_counter()
        try:
            requests.get(base + "/static-nonexistent-bench-probe", timeout=timeout)
        except requests.RequestException:
            time.sleep(1)
            continue
        if time.perf_counter() - started < 0.5:
            return
        time.sleep(0.5)


def wait_until_quiet(pids, timeout=300, window=0.5, busy_share=0.05):
    """Wait until no server is still working off an earlier page's requests. A slow page leaves
    requests queued in its server after wrk stops (the stock search kept a core busy for ~20 s),
    and they would be measured as the next page's competition."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        before = report.cpu_seconds(pids)
        time.sleep(window)
        if report.cpu_seconds(pids) - before < busy_share * window:
            return


def measure_pages(servers, items, seconds, warmup, connections, use_wrk, log, slow_max_s=None):
    """wrk each page for *seconds* after a warm-up. A page whose single probe, times the connections,
    takes longer than half the run is measured with one connection for up to SLOW_MAX_S instead (still reported:
    a page that needs 10 s per request is the finding, not noise)."""
    import requests

    results = {}
    bare = next((item for item in items if item.server == "hello"), None)
    for item in items:
        base = servers.base(item.server)
        wait_until_idle(base)
        wait_until_quiet(servers.pids())
        if item.auth.startswith("cookie"):
            item.headers = {**item.headers, "Cookie": login_cookie(base, HOSPITAL_READER if item.auth ==
                                                                   "cookie-hospital" else READER)}
        probe_path = item.path.replace("{id}", str(item.random_ids[0])) if item.random_ids else item.path
        started = time.perf_counter()
        probe = requests.request(item.method, base + probe_path, headers=item.headers, timeout=600,
                                 data=(item.body or "").replace("{n}", "probe").replace("{contract}",
                                                                                       str(item.contracts[0])).encode() or None,
                                 allow_redirects=False)
        probe_s = time.perf_counter() - started
        if probe.status_code != item.expected:
            log(f"  !! {item.name}: HTTP {probe.status_code} (expected {item.expected}); skipped")
            results[item.name] = {"error": f"HTTP {probe.status_code}"}
            continue
        runner = load.wrk_run if use_wrk else load.python_run
        run_seconds, run_connections, run_warmup = seconds, connections, warmup
        if probe_s * connections * 2 > seconds:
            run_seconds = int(min(slow_max_s or SLOW_MAX_S, max(seconds, probe_s * 5)))
            run_connections, run_warmup = 1, 0
        if run_warmup:
            runner(base, item, run_warmup, run_connections)
            wait_until_idle(base)
            wait_until_quiet(servers.pids())
        beside = [] if bare is None or item.peer is None else [bare_rps(servers, bare, runner, seconds, connections)]
        measured = runner(base, item, run_seconds, run_connections, timeout_s=max(30, int(probe_s * 3) + 10))
        if beside:
            beside.append(bare_rps(servers, bare, runner, seconds, connections))
            measured.update(bare_beside_rps=round(sum(beside) / 2, 2), bare_before_after_rps=beside)
        measured.update(probe_s=round(probe_s, 3), connections=run_connections, seconds=run_seconds,
                        loadavg_1m_after=round(os.getloadavg()[0], 2))
        results[item.name] = measured
        log(f"  {item.name:<45} {measured['rps']:9.2f} req/s  p50 {measured['p50_us'] / 1000:8.1f} ms  "
            f"p99 {measured['p99_us'] / 1000:8.1f} ms  errors {measured['errors']}  (probe {probe_s:.2f} s, "
            f"{run_connections} conn × {run_seconds} s)")
    return results


def bare_rps(servers, bare, runner, seconds, connections):
    """The bare route's req/s over a quarter of a page's run, measured just before and just after
    each compared page. The machine's speed drifted by a third within one run (bench/README.md):
    a page's ratio to a bare route measured once, minutes earlier, moved with the machine as much
    as with the code."""
    return runner(servers.base(bare.server), bare, max(1, seconds // 4), connections)["rps"]


# --- one backend --------------------------------------------------------------------------------


def run_backend(backend, url, args, log):
    meta = None if args.regenerate else generate.existing_meta(url)
    if meta is None or meta.get("requested_tickets") != args.tickets or meta.get("hospitals") != args.hospitals:
        log(f"[{backend}] generating {args.tickets:,} tickets into {url} …")
        meta = generate.generate(url, args.tickets, args.hospitals, log=log)
    else:
        log(f"[{backend}] reusing {url} ({meta['tickets']:,} tickets, generated {meta.get('generated_at')})")
        # A database generated by older code lacks newer tables and indexes (the product's own
        # `weibao run` refuses to start on it): apply the pending migrations first.
        ran = generate.upgrade_schema(url)
        if ran:
            log(f"[{backend}] applied {len(ran)} pending migration(s): {', '.join(f'{c} {v}' for c, v in ran)}")
    app, info = prepare(url, args.users)
    from reference_app import create_reference_app
    from reference_app import status_filter_arg

    info["stock_filter"] = status_filter_arg(app=create_reference_app(url, str(generate.DATA / "instance")))
    items = targets(info)
    log(f"[{backend}] counting SQL per page and explaining the slowest queries …")
    counts, plans = count_and_explain(url, app, items, info)
    from portal.db import db

    db.close()
    gunicorn = None
    if args.server == "gunicorn":
        gunicorn = {"web": args.web_workers, "queue": args.queue_workers,
                    "redis_url": args.redis_url if backend == "postgres" else None}
    servers = Servers(url, args.threads, log, gunicorn=gunicorn)
    result = {"url": url.split("@")[-1], "dataset": meta, "server_threads": args.threads,
              "portal_server": portal_server(args, backend),
              "connections": args.connections, "seconds": args.seconds,
              "load_tool": "wrk (1 thread)" if args.use_wrk else
              "python threads (fallback: the client competes with the server for the cores)"}
    try:
        servers.start()
        memory = {"idle": servers.portal_rss()}
        log(f"[{backend}] servers up (portal: {portal_server(args, backend)}, idle RSS {memory['idle']} MB); measuring pages …")
        measured = measure_pages(servers, items, args.seconds, args.warmup, args.connections, args.use_wrk, log,
                                 slow_max_s=2 if args.smoke else None)
        memory["after_reads"] = servers.portal_rss()
        log(f"[{backend}] write run: {args.users} users × {args.write_seconds} s …")
        tag = f"LOAD{datetime.now(timezone.utc):%H%M%S}{backend[:2]}"
        tokens = info["writer_tokens"]
        write = load.write_run(servers.base("portal"), tokens, info["contracts"], args.write_seconds, tag)
        memory["after_writes"] = servers.portal_rss()
    finally:
        servers.stop()
    bind(url)
    write["check"] = load.verify_writes(write, db)
    db.close()
    write.pop("ids")
    log(f"[{backend}] write run: {write['acknowledged']} acknowledged, errors {write['errors']}, check {write['check']}")
    result["memory_mb"] = memory
    result["write_run"] = write
    result["pages"] = _pages(items, measured, counts, plans)
    return result


def _pages(items, measured, counts, plans):
    bare = measured.get(items[0].name, {}).get("rps")
    pages = []
    for item in items:
        m = measured.get(item.name, {})
        peer = measured.get(item.peer, {}).get("rps") if item.peer else None
        rps = m.get("rps")
        pages.append({
            "label": item.name, "server": item.server, "path": item.path, "method": item.method,
            "measure": m if rps is not None else None,
            "vs_bare": rps / bare if rps and bare else None,
            "vs_bare_beside": rps / m["bare_beside_rps"] if rps and m.get("bare_beside_rps") else None,
            "vs_stock": rps / peer if rps and peer else None, "peer": item.peer,
            "queries": counts.get(item.name), "probe_status": counts.get(item.name + " (status)"),
            "slowest_queries": plans.get(item.name, []),
        })
    return pages


def optional_sections(quick, log):
    """Run the other engineers' bench scripts when present (their output is recorded, not parsed)."""
    sections = {}
    for name in OPTIONAL_SECTIONS:
        path = BENCH / f"{name}.py"
        if not path.exists():
            continue
        command = [sys.executable, str(path)] + (["--quick"] if quick else [])
        log(f"[section] {' '.join(command[1:])}")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=BENCH.parent)
            sections[name] = {"rc": done.returncode, "tail": (done.stdout + done.stderr).splitlines()[-40:]}
        except subprocess.TimeoutExpired:
            sections[name] = {"rc": None, "tail": ["timed out after 900 s"]}
    return sections


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k tickets, 8 s per page, 20 s write run")
    parser.add_argument("--smoke", action="store_true", help="tiny data and 1 s runs (tests; no timing value)")
    parser.add_argument("--tickets", type=int)
    parser.add_argument("--hospitals", type=int)
    parser.add_argument("--backends", default=None, help="comma list: sqlite,postgres")
    parser.add_argument("--pg-url", default=os.environ.get("WEIBAO_BENCH_PG_URL", generate.DEFAULT_PG))
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--write-seconds", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=THREADS, help="waitress threads per server (weibao run's)")
    parser.add_argument("--server", choices=("waitress", "gunicorn"), default="waitress",
                        help="serve the three servers as `weibao run` does (waitress; the portal with its embedded "
                             "consumer), or all three under gunicorn with --web-workers, the portal beside "
                             "--queue-workers `weibao worker` processes (README: several processes)")
    parser.add_argument("--web-workers", type=int, default=SCALEOUT_WEB, help="gunicorn workers per server")
    parser.add_argument("--queue-workers", type=int, default=SCALEOUT_QUEUE_WORKERS,
                        help="`weibao worker` processes beside the portal's gunicorn")
    parser.add_argument("--redis-url", default=os.environ.get("WEIBAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                        help="the queue for --server gunicorn on PostgreSQL (SQLite: the SQLite queue)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    parser.add_argument("--no-sections", action="store_true")
    parser.add_argument("--out", default=str(BENCH / "results" / "latest.json"))
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    defaults = {"smoke": (300, 3, 1, 0, 2, 5, "sqlite"), "quick": (100_000, 100, 8, 2, 20, 50, "sqlite,postgres"),
                "full": (1_000_000, 100, 20, 3, 60, 50, "sqlite,postgres")}[mode]
    for name, value in zip(("tickets", "hospitals", "seconds", "warmup", "write_seconds", "users", "backends"),
                           defaults):
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.mode = mode
    return args


def portal_server(args, backend):
    if args.server == "gunicorn":
        queue = "Redis" if backend == "postgres" else "the SQLite queue"
        return (f"gunicorn --workers {args.web_workers} 'portal.wsgi:app' + {args.queue_workers} weibao worker "
                f"process(es) on {queue}")
    return f"waitress, {args.threads} threads, one process with its queue consumer"


def peer_server(args):
    if args.server == "gunicorn":
        return f"gunicorn --workers {args.web_workers} (sync)"
    return f"waitress, {args.threads} threads"


def main(argv=None):
    args = parse_args(argv)

    def log(message):
        print(message, flush=True)

    args.use_wrk = not args.python_load and load.ensure_wrk(log)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    result = {"mode": args.mode, "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "environment": report.environment(args.pg_url if "postgres" in backends else None),
              "server": f"hello, reference: {peer_server(args)}; portal: "
                        f"{'; '.join(portal_server(args, backend) for backend in backends)}; 127.0.0.1",
              "backends": {}}
    for backend in backends:
        url = generate.default_sqlite_url(args.tickets) if backend == "sqlite" else args.pg_url
        result["backends"][backend] = run_backend(backend, url, args, log)
    if not args.smoke and not args.no_sections:
        result["sections"] = optional_sections(args.mode == "quick", log)
    result["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    for line in report.summary_lines(result):
        print(line)
    print(f"\nwritten {out}")
    return result


if __name__ == "__main__":
    main()
