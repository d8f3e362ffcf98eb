"""The benchmark harness works end to end in its tiny --smoke mode (no timing assertions):
the generator builds a consistent database through the app's migrations, the runner measures
every page, and the write run stores every acknowledged write."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_data(tmp_path):
    return tmp_path / "bench-data"


def _env(bench_data):
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEIBAO_")}
    env["WEIBAO_BENCH_DATA"] = str(bench_data)
    return env


def test_querycount_sees_each_statement(app):
    sys.path.insert(0, str(ROOT / "bench"))
    from querycount import count_queries

    from portal.accounts.models import Organization
    from portal.db import db

    with app.app_context():
        db.connect(reuse_if_open=True)
        Organization.create(name="计数医院", kind="hospital")
        with count_queries() as log:
            for _ in range(3):
                list(Organization.select().where(Organization.kind == "hospital"))
        assert len(log) == 3
        assert log.by_table() == {"organization": 3}
        assert list(log.repeated(threshold=3).values()) == [3]


def test_smoke_run_generates_measures_and_loses_no_writes(bench_data, tmp_path):
    out = tmp_path / "latest.json"
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--backends", "sqlite",
               "--python-load", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, env=_env(bench_data), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    sqlite = result["backends"]["sqlite"]
    assert sqlite["dataset"]["tickets"] > 250
    assert sqlite["dataset"]["events"] >= sqlite["dataset"]["tickets"]
    assert result["environment"]["sqlite"]
    pages = {page["label"]: page for page in sqlite["pages"]}
    assert pages["bare Flask hello (ceiling)"]["queries"] == 0
    for label in ("admin ticket list p1", "engineer queue /tickets/queue", "ticket creation POST /api/v1/tickets"):
        assert pages[label]["queries"] > 0
        assert pages[label]["measure"]["requests"] > 0
        assert pages[label]["measure"]["errors"] == 0
        before, after = pages[label]["measure"]["bare_before_after_rps"]  # the bare route beside the page
        assert before > 0 and after > 0
        assert pages[label]["vs_bare_beside"] == pytest.approx(pages[label]["measure"]["rps"] * 2 / (before + after),
                                                               rel=1e-3)
    assert "bare_beside_rps" not in pages["stock ModelView: list p1"]["measure"]  # compared with nothing
    check = sqlite["write_run"]["check"]
    assert sqlite["write_run"]["errors"] == 0
    assert check["tickets_acknowledged"] > 0
    assert check["lost_tickets"] == check["lost_accepts"] == check["lost_comments"] == 0
    assert check["duplicate_numbers"] == 0
    assert sqlite["memory_mb"]["idle"] > 0


def test_cpu_per_request_serves_every_measured_page(bench_data, tmp_path):
    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    env = _env(bench_data)
    made = subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--tickets", "300", "--hospitals", "3",
                           "--db", url], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "cpu_per_request.py"), "--db", url, "--requests", "2"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["ms_cpu_per_request"]) == {name for name, _auth, _path in _pages()}
    assert all(ms > 0 for ms in result["ms_cpu_per_request"].values())
    assert set(result["ms_cpu_per_request_median"]) == set(result["ms_cpu_per_request"])
    assert all(result["ms_cpu_per_request_median"][name] >= ms for name, ms in result["ms_cpu_per_request"].items())


def _pages():
    sys.path.insert(0, str(ROOT / "bench"))
    from cpu_per_request import PAGES

    return PAGES


def test_instructions_are_read_per_page_from_callgrinds_dumps(tmp_path):
    """bench/instructions.py: each page's dump holds its requests' instructions; the warm-up's and
    any other dump are not a page's, and a page without its dump is an error, not a zero."""
    sys.path.insert(0, str(ROOT / "bench"))
    from instructions import counted

    def dump(name, label, total):
        path = tmp_path / name
        path.write_text(f"version: 1\ncmd: python\npart: 2\ndesc: Trigger: dump {label}\nevents: Ir\n"
                        f"summary: {total}\n\nfn=(1) main\n1 {total}\ntotals: {total}\n")
        return path

    dumps = [dump("cg.out.1", "warm-up", 9_999_000_000), dump("cg.out.2", "page0", 240_000_000),
             dump("cg.out.3", "page1", 300_000_000), dump("cg.out", "exit", 5)]
    assert counted(dumps, ["queue", "admin list"], 20) == {"queue": 12.0, "admin list": 15.0}
    with pytest.raises(RuntimeError, match="admin list"):
        counted(dumps[:2], ["queue", "admin list"], 20)
