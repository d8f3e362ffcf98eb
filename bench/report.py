"""Environment facts, resident memory, and the printed results table."""

import hashlib
import os
import platform
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args, strip=True):
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
        return out.strip() if strip else out
    except (OSError, subprocess.SubprocessError):
        return ""


def environment(pg_url=None):
    env = {
        "cpu_model": _cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "os": platform.platform(),
        "memory_gb": _mem_total_gb(),
        "packages": {name: _version(name) for name in ("Flask", "Flask-Admin", "peewee", "waitress", "psycopg2-binary",
                                                        "WTForms", "Jinja2")},
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_uncommitted_files": len([line for line in _git("status", "--porcelain").splitlines() if line.strip()]),
        # Several engineers work in this tree: name the modified files and fingerprint the diff,
        # so a result says exactly which code it measured.
        "git_modified_files": [line[3:] for line in _git("status", "--porcelain", strip=False).splitlines()
                               if line[:2].strip() and not line.startswith("??")],
        "git_diff_sha256": hashlib.sha256(_git("diff", "HEAD").encode()).hexdigest()[:16],
    }
    try:
        env["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5).stdout.split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        env["wrk"] = None
    if pg_url:
        try:
            import psycopg2

            conn = psycopg2.connect(pg_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3)
            with conn.cursor() as cursor:
                cursor.execute("SHOW server_version")
                env["postgresql"] = cursor.fetchone()[0]
                cursor.execute("SHOW shared_buffers")
                env["postgresql_shared_buffers"] = cursor.fetchone()[0]
            conn.close()
        except Exception as error:  # noqa: BLE001 - reported, not fatal
            env["postgresql"] = f"unavailable: {type(error).__name__}"
    return env


def _mem_total_gb():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def child_pids(pid):
    """The child processes of *pid* (gunicorn's workers), [] when it has none or is gone."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except OSError:
        return []


def rss_mb(pid):
    """Resident set size of *pid* in MB, from /proc/<pid>/status VmRSS."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_seconds(pids):
    """User + system CPU seconds used so far by *pids* (/proc/<pid>/stat; a process gone counts 0)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def _fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if 0 < value < 1:
            return f"{value:.2f}"
        return f"{value:.{digits}f}"
    return str(value)


def table(backend_result):
    """The measured pages of one backend as a Markdown table."""
    rows = ["| page | req/s | p50 ms | p99 ms | × bare | × bare beside | × stock | SQL/req | errors | conn × s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for item in backend_result["pages"]:
        m = item.get("measure") or {}
        run = f"{m.get('connections', '')} × {m.get('seconds', '')}" if m.get("connections") else "–"
        rows.append("| {name} | {rps} | {p50} | {p99} | {bare} | {beside} | {stock} | {queries} | {errors} | {run} |".format(
            name=item["label"], rps=_fmt(m.get("rps")), p50=_fmt(m.get("p50_us", 0) / 1000 if m else None),
            p99=_fmt(m.get("p99_us", 0) / 1000 if m else None), bare=_ratio(item.get("vs_bare")),
            beside=_ratio(item.get("vs_bare_beside")),
            stock=_ratio(item.get("vs_stock")), queries=_fmt(item.get("queries")), errors=_fmt(m.get("errors")),
            run=run))
    return "\n".join(rows)


def _ratio(value):
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def summary_lines(result):
    lines = []
    for backend, data in result["backends"].items():
        gen = data["dataset"]
        lines.append(f"\n## {backend}: {gen['tickets']:,} tickets, {gen.get('events', 0):,} events, "
                     f"db {gen['db_bytes'] / 1e6:,.0f} MB (generated in {gen.get('total_s', '?')} s)")
        server = data.get("portal_server") or f"waitress {data['server_threads']} threads"
        lines.append(f"load tool: {data['load_tool']}; portal server: {server}; "
                     f"{data['connections']} connections; {data['seconds']} s per page")
        lines.append(table(data))
        memory = data.get("memory_mb", {})
        lines.append(f"portal RSS: idle {memory.get('idle')} MB, after reads {memory.get('after_reads')} MB, "
                     f"after writes {memory.get('after_writes')} MB")
        write = data.get("write_run")
        if write:
            check = write.get("check", {})
            lines.append(f"write run: {write['users']} users × {write['seconds']} s: {write['requests_ok']} writes "
                         f"acknowledged ({write['write_rps']} req/s, p50 {write['p50_ms']} ms, p99 {write['p99_ms']} ms), "
                         f"errors {write['errors']}, lost tickets {check.get('lost_tickets')}, "
                         f"lost accepts {check.get('lost_accepts')}, lost comments {check.get('lost_comments')}")
    return lines
