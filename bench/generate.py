"""Generate a benchmark database: 100 hospitals served by one vendor, 1M tickets with timelines.

    python bench/generate.py --tickets 1000000                      # SQLite bench/data/weibao-1000000.db
    python bench/generate.py --tickets 100000 --db postgresql://postgres@127.0.0.1:5432/weibao_bench

The schema is the app's own: the app is created on the target database and
``portal.migrations.upgrade`` runs every plugin's migrations. Organisations, users, contracts,
covered systems, SLA targets and quotas go in through the models; the starter knowledge base
through the KB package's importer (so its FTS5 / tsvector index stays consistent). Tickets, their
timeline (TicketEvent), pauses and the per-year number counters are bulk-loaded: the app's
secondary indexes on those tables are dropped, the rows written with executemany (SQLite, one
big transaction per chunk, synchronous=OFF, no journal) or COPY (PostgreSQL, FK triggers off),
then the very same index DDL the migrations created is run again.

The ticket full-text index is filled last by the product's own ``portal.tickets.search.rebuild``
(the migration that back-fills it ran while the ticket table was still empty).

Deadlines: ``portal.sla.due_with_pauses`` on the business calendar for the start of the hour the
ticket was reported in, shifted by the minutes into that hour (computing each of 3M deadlines
exactly would take ~4 minutes); warning levels and ``sla_next_at`` follow from them, so the
SLA sweep finds only the tickets whose next level is really due.
"""

import argparse
import io
import json
import math
import os
import random
import sys
import time
from bisect import bisect
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlparse

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

DATA = Path(os.environ.get("WEIBAO_BENCH_DATA") or BENCH / "data")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/weibao_bench"
PASSWORD = "bench-password-2026"
VENDOR_NAME = "南宁翱宇科技有限公司"
ENGINEERS = 50
SPAN_DAYS = 3 * 365
CHUNK = 50_000

CATEGORY_WEIGHTS = (("fault", 40), ("bug", 12), ("consultation", 15), ("requirement", 8), ("data_correction", 10),
                    ("report", 7), ("interface", 8))
PRIORITY_WEIGHTS = (("P1", 1), ("P2", 12), ("P3", 55), ("P4", 32))
CHANNEL_WEIGHTS = (("phone", 40), ("portal", 35), ("remote", 10), ("onsite", 5), ("wecom", 8), ("email", 2))
# Local hour of day a problem is reported (Asia/Shanghai): clinics open 08:00, peak mornings.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 6, 20, 22, 18, 12, 6, 10, 14, 12, 10, 6, 4, 3, 3, 2, 2, 1)
STALL = 0.002  # chance per step that a ticket is left where it is (stale open tickets)

TICKET_COLUMNS = (
    "id", "number", "contract_id", "hospital_id", "vendor_id", "system_id", "title", "description", "reporter_id",
    "department_id", "reporter_name", "reporter_department", "reporter_phone", "channel", "category", "priority",
    "status", "assignee_id", "accepted_at", "accepted_by_id", "first_response_at", "onsite_arrived_at",
    "resolved_at", "closed_at", "resolution", "root_cause", "authorized_by_id", "authorized_at", "confirmed_by_id",
    "confirmed_at", "satisfaction", "kb_article_id", "reported_at", "created_at", "updated_at", "response_due",
    "onsite_due", "resolve_due", "paused_since", "paused_minutes", "response_breached", "onsite_breached",
    "resolve_breached", "response_level", "resolve_level", "sla_level", "sla_next_at",
)
EVENT_COLUMNS = ("id", "ticket_id", "kind", "at", "actor_id", "from_status", "to_status", "body")
PAUSE_COLUMNS = ("id", "ticket_id", "started_at", "ended_at", "reason", "status")
BULK_TABLES = ("ticket", "ticket_event", "ticket_pause")
RUNNING = ("new", "accepted", "in_progress", "reopened")
LEVELS = (50, 75, 90, 100)


def _weighted(pairs):
    values = [value for value, _ in pairs]
    cumulative = list(accumulate(weight for _, weight in pairs))
    total = cumulative[-1]

    def pick(rng):
        return values[bisect(cumulative, rng.random() * total)]

    return pick


def default_sqlite_url(tickets):
    return f"sqlite:///{DATA / f'weibao-{tickets}.db'}"


def is_sqlite_url(url):
    return urlparse(url).scheme.startswith("sqlite")


def _fresh_database(url):
    """Remove the SQLite file, or drop and create the PostgreSQL database."""
    if is_sqlite_url(url):
        path = Path(url.split("sqlite:///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", ".meta.json"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def make_app(url, instance=None):
    """The portal app on *url* (instance folder under bench/data so nothing lands in ./instance)."""
    os.environ.setdefault("WEIBAO_INSTANCE_PATH", str(instance or DATA / "instance"))
    from portal import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-not-secret", "QUEUE_URL": f"sqlite:///{DATA / 'instance' / 'bench-queue.db'}"})


# --- reference rows through the models ----------------------------------------------------------


def load_reference_rows(hospitals, pools):
    from portal.accounts.models import Department
    from portal.accounts.models import Organization
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.contracts.demo import QUOTAS
    from portal.contracts.demo import SLA_000_004
    from portal.contracts.demo import SYSTEMS_000
    from portal.contracts.demo import system_class
    from portal.contracts.models import Contract
    from portal.contracts.models import CoveredSystem
    from portal.contracts.models import Quota
    from portal.contracts.models import SlaTarget
    from portal.db import db

    password_hash = hash_password(PASSWORD)
    ref = {"hospitals": [], "engineers": [], "managers": []}
    with db.atomic():
        vendor = Organization.create(name=VENDOR_NAME, kind="vendor")
        ref["vendor"] = vendor.id
        ref["admin"] = User.create(username="bench_admin", role="admin", organization=vendor, display_name="系统管理员",
                                   password_hash=password_hash).id
        for index in range(1, ENGINEERS + 1):
            ref["engineers"].append(User.create(username=f"eng{index:02d}", role="engineer", organization=vendor,
                                                display_name=f"工程师{index:02d}", password_hash=password_hash).id)
        for index in (1, 2):
            ref["managers"].append(User.create(username=f"pm{index:02d}", role="manager", organization=vendor,
                                               display_name=f"项目经理{index:02d}", password_hash=password_hash).id)
        for number, name in enumerate(pools_hospitals(hospitals), start=1):
            org = Organization.create(name=name, kind="hospital")
            departments = {}
            for dept_name in pools.departments[:12]:
                departments[dept_name] = Department.create(organization=org, name=dept_name).id
            it = User.create(username=f"xxk{number:03d}", role="hospital_it", organization=org,
                             display_name=f"信息科{number:03d}", department=departments.get("门诊部"),
                             password_hash=password_hash)
            reporters = []
            for k, dept_name in enumerate(list(departments)[:3], start=1):
                reporters.append((User.create(username=f"ks{number:03d}_{k}", role="reporter", organization=org,
                                              display_name=pools.person(random.Random(number * 10 + k)),
                                              department=departments[dept_name], password_hash=password_hash).id,
                                  departments[dept_name], dept_name))
            contract = Contract.create(
                number=f"WB-2023-{number:03d}", title=f"{name}信息系统维保服务项目", hospital=org, vendor=vendor,
                start_date=date(2023, 11, 1), end_date=date(2027, 10, 31), amount=1179000)
            systems = []
            for category, names in SYSTEMS_000:
                for system_name in names:
                    systems.append(CoveredSystem.create(contract=contract, category=category, name=system_name,
                                                        system_class=system_class(category, system_name)))
            for priority, kind, minutes, clock, _source in SLA_000_004:
                SlaTarget.create(contract=contract, priority=priority, kind=kind, minutes=minutes, clock=clock)
            for kind, period, limit, unit, per_item_max in QUOTAS:
                Quota.create(contract=contract, kind=kind, period=period, limit=limit, unit=unit,
                             per_item_max=per_item_max)
            ref["hospitals"].append({
                "id": org.id, "contract": contract.id, "it": it.id, "reporters": reporters,
                "departments": departments, "systems": [(s.id, pools_short(s.name)) for s in systems],
            })
    return ref


def pools_hospitals(count):
    from textpool import hospital_names

    return hospital_names(count)


def pools_short(name):
    from textpool import short_system

    return short_system(name)


def import_kb(admin_id):
    from portal.accounts.models import User
    from portal.db import db

    from knowledge_base.transfer import builtin_articles_dir
    from knowledge_base.transfer import import_directory

    with db.atomic():
        report = import_directory(builtin_articles_dir(), user=User.get_by_id(admin_id))
    return len(report.created) + len(getattr(report, "updated", []))


# --- deadlines ----------------------------------------------------------------------------------


class Deadlines:
    """SLA deadlines per (hour the ticket was reported in, priority): the real calendar arithmetic."""

    def __init__(self):
        from portal import sla
        from portal.contracts.demo import SLA_000_004
        from portal.tickets.deadlines import calendar

        self.sla = sla
        self.cal = calendar()
        self.targets = {}
        for priority, kind, minutes, clock, _ in SLA_000_004:
            self.targets.setdefault(priority, {})[kind] = sla.Target(minutes, clock)
        self.cache = {}

    def dues(self, hour_start, priority):
        key = (hour_start, priority)
        found = self.cache.get(key)
        if found is None:
            start = hour_start.replace(tzinfo=timezone.utc)
            found = tuple(
                self.sla.due_with_pauses(self.cal, start, self.targets[priority][kind], []).replace(tzinfo=None)
                for kind in ("response", "onsite", "resolve"))
            self.cache[key] = found
        return found


# --- the tickets --------------------------------------------------------------------------------


def _ts(value):
    return value.isoformat(" ") if value is not None else None


class TicketMaker:
    def __init__(self, ref, pools, rng, now, tz):
        self.ref, self.pools, self.rng, self.now, self.tz = ref, pools, rng, now, tz
        self.deadlines = Deadlines()
        self.category = _weighted(CATEGORY_WEIGHTS)
        self.priority = _weighted(PRIORITY_WEIGHTS)
        self.channel = _weighted(CHANNEL_WEIGHTS)
        weights = [1.0 / (1 + index * 0.04) for index in range(len(ref["hospitals"]))]
        self.hospital = _weighted(list(zip(ref["hospitals"], weights)))
        self.sequence = {}
        self.event_id = 0
        self.pause_id = 0

    def reported_times(self, count):
        """Sorted naive-UTC report times over SPAN_DAYS, growing slightly towards now, at local hours."""
        rng, tz = self.rng, self.tz
        hour = _weighted(list(enumerate(HOUR_WEIGHTS)))
        today = self.now.replace(tzinfo=timezone.utc).astimezone(tz).date()
        times = []
        for _ in range(count):
            day = today - timedelta(days=int(SPAN_DAYS * (1 - rng.random() ** 0.8)))
            local = datetime(day.year, day.month, day.day, hour(rng), tzinfo=tz)
            utc = local.astimezone(timezone.utc).replace(tzinfo=None) + timedelta(minutes=rng.randint(0, 59),
                                                                                  seconds=rng.randint(0, 59))
            if utc < self.now - timedelta(minutes=5):
                times.append(utc)
        times.sort()
        return times

    def number(self, reported):
        year = reported.replace(tzinfo=timezone.utc).astimezone(self.tz).year
        last = self.sequence.get(year, 0) + 1
        self.sequence[year] = last
        return f"T{year:04d}-{last:06d}"

    def make(self, ticket_id, reported, events, pauses):
        rng, pools, now = self.rng, self.pools, self.now
        hospital = self.hospital(rng)
        category, priority, channel = self.category(rng), self.priority(rng), self.channel(rng)
        system_id, system_name = rng.choice(hospital["systems"])
        phone = f"0774-{rng.randint(2000000, 8999999)}"
        engineer = rng.choice(self.ref["engineers"])
        if channel == "portal":
            reporter, department, dept_name = rng.choice(hospital["reporters"])
            person, creator = pools.person(rng), reporter
        else:
            reporter, creator = None, engineer
            dept_name = rng.choice(pools.departments)
            department = hospital["departments"].get(dept_name)
            person = pools.person(rng)
        title = pools.title(rng, system_name)[:200]
        description = pools.description(rng, dept_name, person, phone)
        row = {
            "accepted_at": None, "accepted_by_id": None, "first_response_at": None, "resolved_at": None,
            "closed_at": None, "resolution": "", "root_cause": "", "authorized_by_id": None, "authorized_at": None,
            "confirmed_by_id": None, "confirmed_at": None, "satisfaction": None, "assignee_id": None,
            "paused_since": None,
        }
        first_event = self._event(events, ticket_id, "created", reported, creator, "", "new", title)
        status, clock, paused = "new", reported, 0
        late = rng.random() < 0.12
        hour_start = reported.replace(minute=0, second=0)
        response_due, onsite_due, resolve_due = self.deadlines.dues(hour_start, priority)
        shift = reported - hour_start
        response_due, onsite_due, resolve_due = response_due + shift, onsite_due + shift, resolve_due + shift
        open_pause = None

        def step(minutes):
            nonlocal clock
            if rng.random() < STALL:
                return False
            at = clock + timedelta(minutes=minutes, seconds=rng.randint(0, 59))
            if at >= now:
                return False
            clock = at
            return True

        def move(kind, actor, target, body=""):
            nonlocal status
            self._event(events, ticket_id, kind, clock, actor, status, target, body)
            status = target

        try:
            if rng.random() < 0.01:
                if step(rng.randint(10, 600)):
                    move("close", hospital["it"], "closed", "重复登记，已合并。")
                    row["closed_at"] = clock
                raise StopIteration
            if not step(rng.randint(150, 400) if late else rng.randint(3, 45)):
                raise StopIteration
            move("accept", engineer, "accepted")
            row.update(accepted_at=clock, accepted_by_id=engineer, first_response_at=clock, assignee_id=engineer)
            if category == "data_correction":
                if not step(rng.randint(10, 60)):
                    raise StopIteration
                move("request_authorization", engineer, "waiting_authorization", "数据修改需经信息科授权，请审批。")
                open_pause = (clock, "waiting_authorization", "数据修改需经信息科授权，请审批。")
                if rng.random() < 0.05:
                    if step(rng.randint(60, 2000)):
                        move("close", hospital["it"], "closed", "信息科不同意修改。")
                        row["closed_at"] = clock
                        pauses.append(self._pause(ticket_id, open_pause, clock))
                        open_pause = None
                    raise StopIteration
                if not step(rng.randint(20, 600)):
                    raise StopIteration
                move("authorize", hospital["it"], "in_progress", "同意修改，请做好修改前备份。")
                row.update(authorized_by_id=hospital["it"], authorized_at=clock)
                paused += int((clock - open_pause[0]).total_seconds() // 60)
                pauses.append(self._pause(ticket_id, open_pause, clock))
                open_pause = None
            else:
                if not step(rng.randint(1, 30)):
                    raise StopIteration
                move("start", engineer, "in_progress")
                if rng.random() < 0.15:
                    if not step(rng.randint(10, 120)):
                        raise StopIteration
                    move("wait_customer", engineer, "waiting_customer", "请科室提供报错截图。")
                    open_pause = (clock, "waiting_customer", "请科室提供报错截图。")
                    if not step(rng.randint(30, 1500)):
                        raise StopIteration
                    move("resume", engineer, "in_progress", "科室已提供截图。")
                    paused += int((clock - open_pause[0]).total_seconds() // 60)
                    pauses.append(self._pause(ticket_id, open_pause, clock))
                    open_pause = None
            if not step(rng.randint(3000, 9000) if late else rng.randint(30, 600)):
                raise StopIteration
            root = pools.root_cause(rng) if priority in ("P1", "P2") else ""
            move("resolve", engineer, "resolved", "")
            row.update(resolved_at=clock, resolution=pools.resolution(rng), root_cause=root)
            roll = rng.random()
            if roll < 0.62:
                if step(rng.randint(30, 2000)):
                    confirmer = reporter or hospital["it"]
                    move("confirm", confirmer, "closed", "已恢复，谢谢。")
                    row.update(confirmed_by_id=confirmer, confirmed_at=clock, closed_at=clock,
                               satisfaction=rng.choice((5, 5, 5, 4, 4, 3)))
            elif roll < 0.97:
                if step(rng.randint(2880, 8000)):
                    move("close", hospital["it"], "closed", "已电话回访确认。")
                    row["closed_at"] = clock
        except StopIteration:
            pass
        if open_pause is not None:
            pauses.append(self._pause(ticket_id, open_pause, None))
            row["paused_since"] = open_pause[0]
        resolve_due += timedelta(minutes=paused)
        onsite_due += timedelta(minutes=paused)
        sla = self._sla(status, reported, row, response_due, resolve_due)
        r = row
        return (
            ticket_id, self.number(reported), hospital["contract"], hospital["id"], self.ref["vendor"], system_id,
            title, description, reporter, department, person, dept_name, phone, channel, category, priority, status,
            r["assignee_id"], _ts(r["accepted_at"]), r["accepted_by_id"], _ts(r["first_response_at"]), None,
            _ts(r["resolved_at"]), _ts(r["closed_at"]), r["resolution"], r["root_cause"], r["authorized_by_id"],
            _ts(r["authorized_at"]), r["confirmed_by_id"], _ts(r["confirmed_at"]), r["satisfaction"], None,
            _ts(reported), _ts(reported), _ts(clock), _ts(response_due), _ts(onsite_due), _ts(resolve_due),
            _ts(r["paused_since"]), paused, *sla,
        ), first_event

    def _sla(self, status, reported, row, response_due, resolve_due):
        """(response_breached, onsite_breached, resolve_breached, response_level, resolve_level, sla_level, next)."""
        now = self.now
        first, resolved = row["first_response_at"], row["resolved_at"]
        response_breached = (first is not None and first > response_due) or (first is None and now > response_due)
        resolve_breached = (resolved is not None and resolved > resolve_due) or (
            resolved is None and status in RUNNING and now > resolve_due)
        response_level = resolve_level = 0
        instants = []
        if status in RUNNING:
            for kind, due, active in (("response", response_due, status == "new"),
                                      ("resolve", resolve_due, resolved is None)):
                if not active:
                    continue
                span = max((due - reported).total_seconds(), 60)
                progress = 100 * (now - reported).total_seconds() / span
                level = max([level for level in LEVELS if level <= progress], default=0)
                higher = [value for value in LEVELS if value > level]
                if higher:
                    instants.append(reported + timedelta(seconds=math.ceil(span * higher[0] / 100 / 60) * 60))
                if kind == "response":
                    response_level = level
                else:
                    resolve_level = level
        elif resolve_breached:
            resolve_level = 100
        if response_breached and status != "new":
            response_level = max(response_level, 100)
        sla_level = max(response_level if status == "new" else 0, resolve_level)
        return (int(response_breached), 0, int(resolve_breached), response_level, resolve_level, sla_level,
                _ts(min(instants)) if instants else None)

    def _event(self, events, ticket_id, kind, at, actor, from_status, to_status, body):
        self.event_id += 1
        events.append((self.event_id, ticket_id, kind, _ts(at), actor, from_status, to_status, body))
        return self.event_id

    def _pause(self, ticket_id, pause, ended):
        self.pause_id += 1
        started, status, reason = pause
        return (self.pause_id, ticket_id, _ts(started), _ts(ended), reason, status)


# --- bulk writers -------------------------------------------------------------------------------


def _index_ddl(table):
    from portal.db import db
    from portal.db import is_sqlite

    if is_sqlite():
        rows = db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                              "AND sql IS NOT NULL", (table,)).fetchall()
    else:
        rows = db.execute_sql("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND "
                              "i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                              "WHERE c.conname = i.indexname)", (table,)).fetchall()
    return rows


class SqliteWriter:
    def __init__(self, db):
        self.db = db
        self.conn = db.connection()
        for pragma in ("synchronous = OFF", "journal_mode = OFF", "foreign_keys = OFF", "secure_delete = OFF",
                       "cache_size = -400000", "temp_store = MEMORY", "locking_mode = EXCLUSIVE"):
            self.conn.execute(f"PRAGMA {pragma}")

    def write(self, table, columns, rows):
        marks = ", ".join("?" * len(columns))
        self.conn.execute("BEGIN")
        self.conn.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', rows)
        self.conn.execute("COMMIT")

    def run(self, sql):
        self.conn.execute(sql)

    def finish(self):
        for pragma in ("locking_mode = NORMAL", "journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("SELECT 1 FROM ticket LIMIT 1").fetchall()  # release the exclusive lock


def _copy_value(value):
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


class PostgresWriter:
    def __init__(self, db):
        self.db = db
        self.conn = db.connection()
        with self.conn.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers while loading
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET synchronous_commit = OFF")
        self.conn.commit()

    def write(self, table, columns, rows):
        buffer = io.StringIO()
        buffer.write("".join("\t".join(map(_copy_value, row)) + "\n" for row in rows))
        buffer.seek(0)
        with self.conn.cursor() as cursor:
            cursor.copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN', buffer)
        self.conn.commit()

    def run(self, sql):
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
        self.conn.commit()

    def finish(self):
        with self.conn.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
            for table in BULK_TABLES:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))")
        self.conn.commit()
        old = self.conn.autocommit
        self.conn.autocommit = True
        with self.conn.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE ticket")
            cursor.execute("VACUUM ANALYZE ticket_event")
            cursor.execute("VACUUM ANALYZE ticket_pause")
        self.conn.autocommit = old


def bulk_tickets(count, ref, pools, seed, log):
    from portal.db import db
    from portal.db import is_sqlite
    from portal.tickets.models import TicketSequence

    tz = Deadlines().cal.tz
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    rng = random.Random(seed)
    maker = TicketMaker(ref, pools, rng, now, tz)
    db.close()
    db.connect()
    ddl = {table: _index_ddl(table) for table in BULK_TABLES}
    writer = SqliteWriter(db) if is_sqlite() else PostgresWriter(db)
    for table, indexes in ddl.items():
        for name, _sql in indexes:
            writer.run(f'DROP INDEX IF EXISTS "{name}"')
    timings = {}
    started = time.perf_counter()
    times = maker.reported_times(count)
    made = write_seconds = 0.0
    statuses = {}
    events_total = pauses_total = 0
    for offset in range(0, len(times), CHUNK):
        t0 = time.perf_counter()
        tickets, events, pauses = [], [], []
        for index, reported in enumerate(times[offset:offset + CHUNK], start=offset + 1):
            row, _ = maker.make(index, reported, events, pauses)
            tickets.append(row)
            statuses[row[16]] = statuses.get(row[16], 0) + 1
        t1 = time.perf_counter()
        writer.write("ticket", TICKET_COLUMNS, tickets)
        writer.write("ticket_event", EVENT_COLUMNS, events)
        if pauses:
            writer.write("ticket_pause", PAUSE_COLUMNS, pauses)
        t2 = time.perf_counter()
        made += t1 - t0
        write_seconds += t2 - t1
        events_total += len(events)
        pauses_total += len(pauses)
        log(f"  {offset + len(tickets):>9,} tickets  {events_total:>10,} events  "
            f"(rows {made:6.1f}s, insert {write_seconds:6.1f}s)")
    timings["make_rows_s"] = round(made, 1)
    timings["insert_s"] = round(write_seconds, 1)
    t3 = time.perf_counter()
    for table, indexes in ddl.items():
        for _name, sql in indexes:
            writer.run(sql)
    timings["indexes_s"] = round(time.perf_counter() - t3, 1)
    writer.finish()
    db.close()
    db.connect()
    with db.atomic():
        for year, last in maker.sequence.items():
            TicketSequence.insert(year=year, last=last).on_conflict(
                conflict_target=[TicketSequence.year], update={TicketSequence.last: last}).execute()
    t4 = time.perf_counter()
    timings["search_indexed"] = build_ticket_search_index()
    timings["search_index_s"] = round(time.perf_counter() - t4, 1)
    timings["tickets_total_s"] = round(time.perf_counter() - started, 1)
    return {"tickets": len(times), "events": events_total, "pauses": pauses_total, "statuses": statuses,
            "deadline_cache": len(maker.deadlines.cache), "timings": timings}


def build_ticket_search_index():
    """Fill the ticket full-text index the way the product's migration back-fills it.

    The schema is created on an empty database, so the migration's back-fill found no tickets;
    without this the search pages would measure an empty index.
    """
    from portal.db import db
    from portal.tickets import search

    with db.atomic():
        return search.rebuild()


def database_size(url):
    from portal.db import db

    if is_sqlite_url(url):
        path = url.split("sqlite:///", 1)[1]
        return sum(os.path.getsize(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix))
    return db.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0]


def upgrade_schema(url):
    """Bring a reused benchmark database to the current schema, as `weibao init` does."""
    from portal.db import db
    from portal.migrations import upgrade

    app = make_app(url)
    with app.app_context():
        db.connect(reuse_if_open=True)
        try:
            return upgrade([plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()])
        finally:
            db.close()


def generate(url, tickets, hospitals=100, seed=20260501, log=print):
    from portal.db import db
    from portal.migrations import upgrade

    from textpool import Pools

    started = time.perf_counter()
    _fresh_database(url)
    app = make_app(url)
    summary = {"url": url, "requested_tickets": tickets, "hospitals": hospitals, "seed": seed}
    with app.app_context():
        db.connect(reuse_if_open=True)
        t0 = time.perf_counter()
        upgrade([plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()])
        summary["migrations_s"] = round(time.perf_counter() - t0, 1)
        pools = Pools()
        t0 = time.perf_counter()
        ref = load_reference_rows(hospitals, pools)
        summary["kb_articles"] = import_kb(ref["admin"])
        summary["reference_rows_s"] = round(time.perf_counter() - t0, 1)
        log(f"schema + {hospitals} hospitals + KB in {time.perf_counter() - started:.1f}s; loading tickets …")
        summary.update(bulk_tickets(tickets, ref, pools, seed, log))
        summary["total_s"] = round(time.perf_counter() - started, 1)
        summary["db_bytes"] = database_size(url)
        db.close()
    summary["generated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    meta_path = meta_file(url)
    if meta_path:
        meta_path.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        (DATA / "pg-meta.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return summary


def meta_file(url):
    if is_sqlite_url(url):
        return Path(url.split("sqlite:///", 1)[1] + ".meta.json")
    return None


def existing_meta(url):
    """The summary of an earlier generation of *url*, if it matches a database that still exists."""
    try:
        if is_sqlite_url(url):
            path = meta_file(url)
            return json.loads(path.read_text()) if path.exists() and Path(url.split("sqlite:///", 1)[1]).exists() else None
        meta = DATA / "pg-meta.json"
        if not meta.exists():
            return None
        data = json.loads(meta.read_text())
        if data.get("url") != url:
            return None
        import psycopg2

        conn = psycopg2.connect(url)
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM ticket WHERE id <= %s", (data["tickets"],))
            found = cursor.fetchone()[0]
        conn.close()
        return data if found == data["tickets"] else None
    except Exception:  # noqa: BLE001 - any doubt means regenerate
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--hospitals", type=int, default=100)
    parser.add_argument("--db", help="sqlite:///path or postgresql://… (default: bench/data/weibao-N.db)")
    parser.add_argument("--postgres", action="store_true", help=f"use {DEFAULT_PG}")
    parser.add_argument("--seed", type=int, default=20260501)
    args = parser.parse_args(argv)
    url = args.db or (DEFAULT_PG if args.postgres else default_sqlite_url(args.tickets))
    summary = generate(url, args.tickets, args.hospitals, args.seed)
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
