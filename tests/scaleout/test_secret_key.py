"""Several processes starting at once on a fresh instance folder (gunicorn's workers, the
`weibao worker`s) all end with the same secret key: otherwise a session cookie signed by one
worker is refused by the next, and users are logged out at random."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
ROUNDS = 10  # the old O_EXCL-then-write code failed 4 rounds of 10 here (an empty key, or a crash)
# Each child loads portal/config.py alone (fast: no Flask import), then waits for the go file, so
# all four race on the same instant.
CHILD = """
import importlib.util, os, sys, time
from pathlib import Path
spec = importlib.util.spec_from_file_location("weibao_config", sys.argv[3])
config = importlib.util.module_from_spec(spec)
spec.loader.exec_module(config)
folder, go = Path(sys.argv[1]), sys.argv[2]
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.0005)
print(config._instance_secret_key(folder), flush=True)
"""


def _race(folder, go):
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(go),
                                  str(ROOT / "portal" / "config.py")], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        go.touch()
        results = [child.communicate(timeout=60) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (_out, err) in zip(children, results):
        assert child.returncode == 0, err
    return [out.strip() for out, _err in results]


@pytest.mark.slow
def test_processes_starting_at_once_on_a_fresh_folder_share_one_key(tmp_path):
    for round_number in range(ROUNDS):
        folder = tmp_path / f"instance-{round_number}"
        keys = _race(folder, tmp_path / f"go-{round_number}")
        stored = (folder / "secret_key").read_text()
        assert keys == [stored] * PROCESSES
        assert len(stored) == 64 and int(stored, 16)
        assert stat.S_IMODE(os.stat(folder / "secret_key").st_mode) == 0o600
        assert sorted(os.listdir(folder)) == ["secret_key"]  # no temporary file left behind


def test_an_existing_key_is_kept(tmp_path):
    from portal.config import _instance_secret_key

    (tmp_path / "secret_key").write_text("ab" * 32 + "\n")
    started = time.monotonic()
    assert _instance_secret_key(tmp_path) == "ab" * 32
    assert time.monotonic() - started < 1


def test_an_empty_key_file_is_refused_with_a_clear_message(tmp_path):
    from portal.config import _instance_secret_key

    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="is empty; delete it"):
        _instance_secret_key(tmp_path)
