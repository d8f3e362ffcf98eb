"""Reports benchmark: the monthly report and the annual scorecard of one contract with N tickets
in a year (default 100,000), on SQLite and PostgreSQL.

    python bench/reports_bench.py [--tickets 100000] [--runs 5] [--backends sqlite,postgres]

Tickets are bulk-inserted (insert_many in batches, one transaction) with a realistic mix: three
system classes and tickets without a system, every category and priority, ~12 % late responses
or resolutions, ~8 % still open, ~40 % rated. Timed (median of --runs, after one warm-up run):
``scorecard(contract, year)``; the monthly report data of the busiest month
(``monthly.report``) and the same month as XLSX (``exports.xlsx``). Results: a table on stdout
and bench/results/reports.json.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "reports.json"
YEAR = 2025
BATCH = 2000
SEED = 20250601


def make_app(url, instance):
    os.environ["WEIBAO_INSTANCE_PATH"] = str(instance)
    from portal import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-not-secret",
                       "QUEUE_URL": f"sqlite:///{instance / 'bench-queue.db'}"})


def load(count):
    """Create the contract and bulk-insert *count* tickets of YEAR; return the contract."""
    from portal.accounts.models import Organization
    from portal.contracts.models import Contract
    from portal.contracts.models import CoveredSystem
    from portal.db import db
    from portal.tickets.models import CATEGORIES
    from portal.tickets.models import Ticket

    rng = random.Random(SEED)
    with db.atomic():
        hospital = Organization.create(name="蒙山县中医医院", kind="hospital")
        vendor = Organization.create(name="南宁翱宇科技有限公司", kind="vendor")
        contract = Contract.create(number="BENCH-1", title="基准合同", hospital=hospital, vendor=vendor,
                                   start_date=date(YEAR - 1, 1, 1), end_date=date(YEAR + 1, 12, 31))
        systems = [CoveredSystem.create(contract=contract, name=f"系统{i}", system_class=cls).id
                   for i, cls in enumerate(("HIS", "HIS", "CIS", "CIS", "other"))] + [None]
    start = datetime(YEAR, 1, 1, tzinfo=timezone.utc) - timedelta(hours=8)
    span = 365 * 24 * 3600
    # Tickets are created over the year, so ids follow reported_at (as in real use).
    times = sorted(start + timedelta(seconds=rng.randrange(span)) for _ in range(count))
    rows = []
    with db.atomic():
        for index, reported in enumerate(times):
            late_response, late_resolve, open_ = rng.random() < 0.06, rng.random() < 0.07, rng.random() < 0.08
            response_due = reported + timedelta(minutes=30)
            resolve_due = reported + timedelta(hours=rng.choice((9, 27, 45)))
            first = reported + timedelta(minutes=50 if late_response else 10)
            resolved = None if open_ else (resolve_due + timedelta(hours=3) if late_resolve
                                           else resolve_due - timedelta(hours=2))
            rows.append({
                "number": f"B{YEAR}-{index:07d}", "contract": contract.id, "hospital": hospital.id,
                "vendor": vendor.id, "system": rng.choice(systems), "title": f"基准问题 {index}",
                "category": rng.choice(CATEGORIES), "priority": rng.choice(("P1", "P2", "P3", "P3", "P4")),
                "status": "in_progress" if open_ else rng.choice(("resolved", "closed")),
                "reported_at": reported, "created_at": reported, "updated_at": reported,
                "response_due": response_due, "resolve_due": resolve_due, "first_response_at": first,
                "accepted_at": first, "resolved_at": resolved, "response_breached": late_response,
                "resolve_breached": late_resolve and not open_,
                "satisfaction": rng.randint(3, 5) if resolved and rng.random() < 0.4 else None,
            })
            if len(rows) == BATCH:
                Ticket.insert_many(rows).execute()
                rows = []
        if rows:
            Ticket.insert_many(rows).execute()
    return contract


def timed(function, runs):
    function()  # warm-up: calendar cache, statement caches
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples), samples


def run_backend(name, url, instance, tickets, runs):
    from portal.db import db
    from portal.migrations import upgrade

    app = make_app(url, instance)
    with app.app_context():
        db.connect(reuse_if_open=True)
        upgrade([plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()])
        began = time.perf_counter()
        contract = load(tickets)
        load_seconds = time.perf_counter() - began
        from portal.reports import exports
        from portal.reports import monthly
        from portal.reports import periods
        from portal.reports.scorecard import scorecard

        month = periods.month_period(YEAR, 6)
        results = {"backend": name, "tickets": tickets, "load_seconds": round(load_seconds, 2)}
        card_median, card_samples = timed(lambda: scorecard(contract, YEAR), runs)
        report = monthly.report(contract, month)
        results["month_tickets"] = len(report["tickets"])
        results["scorecard_total"] = scorecard(contract, YEAR)["total"]
        month_median, month_samples = timed(lambda: monthly.report(contract, month), runs)
        xlsx_median, xlsx_samples = timed(lambda: exports.xlsx(monthly.report(contract, month)), max(1, runs // 2))
        results.update({
            "scorecard_seconds": round(card_median, 3), "monthly_seconds": round(month_median, 3),
            "monthly_xlsx_seconds": round(xlsx_median, 3),
            "samples": {"scorecard": [round(s, 3) for s in card_samples],
                        "monthly": [round(s, 3) for s in month_samples],
                        "monthly_xlsx": [round(s, 3) for s in xlsx_samples]},
        })
        db.close()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=os.environ.get("WEIBAO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="weibao-reports-bench-") as folder:
            instance = Path(folder) / "instance"
            instance.mkdir()
            if backend == "sqlite":
                results.append(run_backend("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", instance, args.tickets,
                                           args.runs))
            elif backend == "postgres":
                from playhouse.db_url import connect as connect_url

                schema = "bench_reports_" + uuid.uuid4().hex[:8]
                admin = connect_url(args.pg_url)
                admin.execute_sql(f"CREATE SCHEMA {schema}")
                admin.close()
                separator = "&" if "?" in args.pg_url else "?"
                try:
                    results.append(run_backend("postgres", f"{args.pg_url}{separator}options=-csearch_path%3D{schema}",
                                               instance, args.tickets, args.runs))
                finally:
                    from portal.db import db

                    if not db.is_closed():
                        db.close()
                    admin = connect_url(args.pg_url)
                    admin.execute_sql(f"DROP SCHEMA {schema} CASCADE")
                    admin.close()
    header = f"{'backend':<10}{'tickets':>9}{'month':>7}{'load s':>8}{'scorecard s':>13}{'monthly s':>11}{'xlsx s':>8}"
    print(header)
    for r in results:
        print(f"{r['backend']:<10}{r['tickets']:>9}{r['month_tickets']:>7}{r['load_seconds']:>8}"
              f"{r['scorecard_seconds']:>13}{r['monthly_seconds']:>11}{r['monthly_xlsx_seconds']:>8}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"generated_at": datetime.now(timezone.utc).isoformat(), "results": results},
                                  ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
