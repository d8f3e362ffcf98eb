"""Load tools: wrk with a generated Lua script (GET and POST, status checks), a small threaded
Python fallback when wrk is missing, and the 50-user write run that checks for lost writes."""

import json
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import quote

import requests

LUA = r"""
local method = %(method)s
local paths = %(paths)s
local random_path = %(random_path)s
local body_template = %(body)s
local expected = %(expected)s
local threads = {}
counter = 0
bad = 0
last_bad = 0
wrk.headers = %(headers)s

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
end

function request()
  counter = counter + 1
  local path
  if random_path then
    path = random_path.prefix .. math.random(random_path.low, random_path.high) .. random_path.suffix
  else
    path = paths[(counter %% #paths) + 1]
  end
  local body = nil
  if body_template then
    body = string.gsub(body_template, "{n}", tostring(tid) .. "-" .. tostring(counter))
    body = string.gsub(body, "{contract}", tostring(math.random(%(contract_low)d, %(contract_high)d)))
  end
  return wrk.format(method, path, nil, body)
end

function response(status, headers, body)
  if status ~= expected then
    bad = bad + 1
    last_bad = status
  end
end

function done(summary, latency, requests)
  local total_bad, last = 0, 0
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    local l = thread:get("last_bad") or 0
    if l ~= 0 then last = l end
  end
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"connect_errors": %%d, "read_errors": %%d, "write_errors": %%d, "timeouts": %%d, "non_2xx_3xx": %%d, ' ..
    '"unexpected_status": %%d, "last_unexpected": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status, total_bad, last))
end
"""


def _lua(value):
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return "[==[" + value + "]==]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[ {_lua(k)} ] = {_lua(v)}" for k, v in value.items()) + "}"
    return "{" + ", ".join(_lua(v) for v in value) + "}"


@dataclass
class Target:
    """One measured endpoint."""

    name: str
    server: str  # hello | reference | portal
    path: str
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body: str | None = None  # "{n}" is a per-request counter, "{contract}" a random contract id
    expected: int = 200
    random_ids: tuple | None = None  # (low, high): path is prefix + id + suffix, split at "{id}"
    contracts: tuple = (1, 1)
    peer: str | None = None  # name of the stock-view target it is compared with
    auth: str = "none"  # none | cookie | token
    note: str = ""


def have_wrk():
    return shutil.which("wrk") is not None


def ensure_wrk(log=print):
    """Install Debian's wrk if it is missing; return whether it is usable."""
    if have_wrk():
        return True
    if shutil.which("apt-get"):
        log("wrk missing: apt-get install -y wrk …")
        subprocess.run(["apt-get", "install", "-y", "wrk"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False, timeout=300)
    return have_wrk()


def quoted(path):
    """Percent-encode non-ASCII query text (wrk refuses raw UTF-8 in a URL)."""
    return quote(path, safe="/?&=%{}:+,;")


def wrk_run(base, target, seconds, connections, timeout_s=30):
    """Run wrk against base+target.path; return the parsed WRKJSON numbers."""
    if target.random_ids:
        prefix, suffix = quoted(target.path).split("{id}")
        random_path = {"prefix": prefix, "suffix": suffix, "low": target.random_ids[0], "high": target.random_ids[1]}
    else:
        random_path = None
    script = LUA % {
        "method": _lua(target.method), "paths": _lua([quoted(target.path)]), "random_path": _lua(random_path),
        "body": _lua(target.body), "expected": target.expected, "headers": _lua(target.headers),
        "contract_low": target.contracts[0], "contract_high": target.contracts[1],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        path = handle.name
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s", "-s", path, base]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 60)
    match = re.search(r"WRKJSON (\{.*\})", result.stdout)
    if not match:
        raise RuntimeError(f"wrk failed: {result.stdout[-500:]} {result.stderr[-500:]}")
    data = json.loads(match.group(1))
    duration = data["duration_us"] / 1e6
    data["rps"] = data["requests"] / duration if duration else 0.0
    data["errors"] = (data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
                      + data["unexpected_status"])
    data["tool"] = "wrk"
    return data


def python_run(base, target, seconds, connections, timeout_s=30):
    """Fallback load generator: *connections* threads with keep-alive sessions (the client then
    competes with the server for the same cores, so its numbers are a lower bound)."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = [0]

    def worker(seed):
        rng = random.Random(seed)
        session = requests.Session()
        session.headers.update(target.headers)
        mine, bad = [], 0
        while time.perf_counter() < deadline:
            with lock:
                counter[0] += 1
                n = counter[0]
            path = target.path
            if target.random_ids:
                path = path.replace("{id}", str(rng.randint(*target.random_ids)))
            body = None
            if target.body:
                body = target.body.replace("{n}", f"{seed}-{n}").replace("{contract}",
                                                                         str(rng.randint(*target.contracts)))
            started = time.perf_counter()
            try:
                response = session.request(target.method, base + path, data=body, timeout=timeout_s,
                                           allow_redirects=False)
                if response.status_code != target.expected:
                    bad += 1
            except requests.RequestException:
                bad += 1
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p):
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6) if latencies else 0

    return {"requests": len(latencies), "duration_us": int(elapsed * 1e6), "rps": len(latencies) / elapsed,
            "p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99), "max_us": pct(100), "errors": errors[0],
            "unexpected_status": errors[0], "tool": "python"}


# --- the write run: N users creating and updating tickets, then count what was stored ------------


def write_run(base, tokens, contract_ids, seconds, tag):
    """Each user (one token each) loops: create a ticket, accept it, comment on it. Returns the
    acknowledged writes per kind and the errors; :func:`verify_writes` then compares with the rows."""
    deadline = time.perf_counter() + seconds
    acknowledged = {"create": [], "accept": [], "comment": []}
    errors, lock = [], threading.Lock()
    latencies = []

    def user(index, token):
        rng = random.Random(index)
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        mine = {"create": [], "accept": [], "comment": []}
        lat, errs, n = [], [], 0

        def post(kind, path, body, expected):
            started = time.perf_counter()
            try:
                response = session.post(base + path, data=json.dumps(body, ensure_ascii=False).encode(), timeout=60)
            except requests.RequestException as error:
                errs.append(f"{kind}: {type(error).__name__}")
                return None
            lat.append(time.perf_counter() - started)
            if response.status_code != expected:
                errs.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
                return None
            return response.json()

        while time.perf_counter() < deadline:
            n += 1
            title = f"{tag}-{index}-{n} 压测：门诊收费系统结算卡死"
            created = post("create", "/api/v1/tickets", {
                "contract_id": rng.choice(contract_ids), "title": title, "category": "fault", "priority": "P3",
                "description": "并发写入测试。", "reporter_name": "压测用户", "reporter_department": "门诊部"}, 201)
            if created is None:
                continue
            ticket_id = created["id"]
            mine["create"].append(ticket_id)
            if post("accept", f"/api/v1/tickets/{ticket_id}/transitions", {"action": "accept"}, 200) is not None:
                mine["accept"].append(ticket_id)
            if post("comment", f"/api/v1/tickets/{ticket_id}/comments", {"body": f"{tag} 已远程处理"}, 201) is not None:
                mine["comment"].append(ticket_id)
        with lock:
            for kind, ids in mine.items():
                acknowledged[kind].extend(ids)
            errors.extend(errs)
            latencies.extend(lat)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(index, token)) for index, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    requests_done = len(latencies)

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000, 1) if latencies else None

    return {"users": len(tokens), "seconds": round(elapsed, 1), "requests_ok": requests_done,
            "write_rps": round(requests_done / elapsed, 1), "p50_ms": pct(50), "p99_ms": pct(99),
            "acknowledged": {kind: len(ids) for kind, ids in acknowledged.items()}, "errors": len(errors),
            "error_samples": errors[:5], "ids": acknowledged, "tag": tag}


def verify_writes(run, db):
    """Compare the acknowledged writes with the rows in the database (peewee *db* connected)."""
    from portal.tickets.models import Ticket
    from portal.tickets.models import TicketEvent

    tag = run["tag"]
    stored = {row.id for row in Ticket.select(Ticket.id).where(Ticket.title.startswith(f"{tag}-"))}
    created = set(run["ids"]["create"])
    accepted_rows = {row.ticket_id for row in TicketEvent.select(TicketEvent.ticket).where(
        (TicketEvent.kind == "accept") & TicketEvent.ticket.in_(list(stored) or [0]))}
    comment_rows = {row.ticket_id for row in TicketEvent.select(TicketEvent.ticket).where(
        (TicketEvent.kind == "comment") & (TicketEvent.body == f"{tag} 已远程处理"))}
    status_ok = Ticket.select().where(Ticket.id.in_(run["ids"]["accept"] or [0]) & (Ticket.status == "accepted")).count()
    numbers = Ticket.select(Ticket.number).where(Ticket.id.in_(list(stored) or [0]))
    distinct_numbers = len({row.number for row in numbers})
    return {
        "tickets_acknowledged": len(created), "tickets_stored": len(stored),
        "lost_tickets": len(created - stored), "unacknowledged_tickets": len(stored - created),
        "accepts_acknowledged": len(run["ids"]["accept"]), "accept_events_stored": len(accepted_rows),
        "accepted_status_stored": status_ok,
        "lost_accepts": len(set(run["ids"]["accept"]) - accepted_rows),
        "comments_acknowledged": len(run["ids"]["comment"]), "comment_events_stored": len(comment_rows),
        "lost_comments": len(set(run["ids"]["comment"]) - comment_rows),
        "duplicate_numbers": len(stored) - distinct_numbers,
    }
