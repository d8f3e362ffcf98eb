"""The servers the runner measures, each its own process (or processes) on 127.0.0.1:

    python bench/servers.py hello     --port 8101 --threads 8
    python bench/servers.py reference --port 8102 --threads 8 --db URL
    python bench/servers.py portal    --port 8103 --threads 8 --db URL [--no-consumer]

``portal`` is what ``weibao run`` serves: the app with its embedded huey consumer (SLA sweep
every minute) in the same process, on waitress. The instance folder (secret key, queue) is
bench/data/instance-<port>.

:class:`ScaleOut` is the other way to serve the portal (README "Scale-out"; ``run.py --server
gunicorn``): ``gunicorn --workers 4 'portal.wsgi:app'`` plus two ``weibao worker`` processes on
one Redis queue, all on one database.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))


def hello_app():
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello():
        return "Hello, 维保"

    return app


def peer_app(kind):
    """hello or reference, for ``gunicorn 'servers:peer_app("reference")'`` (--server gunicorn):
    the peers served as the portal is. The reference's database comes from WEIBAO_BENCH_DB."""
    if kind == "hello":
        return hello_app()
    from reference_app import create_reference_app

    instance = Path(os.environ.get("WEIBAO_BENCH_DATA") or BENCH / "data") / "instance-reference-gunicorn"
    instance.mkdir(parents=True, exist_ok=True)
    return create_reference_app(os.environ["WEIBAO_BENCH_DB"], str(instance))


def portal_app(url, instance):
    os.environ["WEIBAO_INSTANCE_PATH"] = str(instance)
    from portal import create_app

    return create_app({"DATABASE_URL": url, "QUEUE_URL": f"sqlite:///{instance / 'queue.db'}"})


# The worker's pid first: which gunicorn worker served each request (the scale-out test reads it).
ACCESS_FORMAT = '%(p)s "%(r)s" %(s)s %(M)sms'
ACCESS_LINE = re.compile(r'^<(\d+)> "(\S+) (\S+) [^"]*" (\d+) ')


class ScaleOut:
    """gunicorn with *web* workers serving portal.wsgi:app, and *queue* `weibao worker` processes.

    *env* holds the WEIBAO_* settings every process shares (database, queue, instance folder);
    logs go to *logs*: access.log, gunicorn.log, worker-<n>.log (INFO: readiness and the periodic
    claims are read from them).
    """

    def __init__(self, env, port, logs, web=4, queue=2):
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("WEIBAO_")},
                    "WEIBAO_LOG_LEVEL": "INFO", **env}
        self.port, self.logs, self.web, self.queue = port, Path(logs), web, queue
        self.gunicorn, self.workers = None, []

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self):
        return self.logs / "access.log"

    def worker_log(self, index):
        return self.logs / f"worker-{index}.log"

    def start(self):
        """Start every process at once (a fresh instance folder: they race to make the secret key)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.gunicorn = self._spawn([
            "-m", "gunicorn", "--workers", str(self.web), "--bind", f"127.0.0.1:{self.port}",
            "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_FORMAT,
            "--error-logfile", str(self.logs / "gunicorn.log"), "portal.wsgi:app"], self.logs / "gunicorn.out",
            # gunicorn >= 25.1 opens a control socket there (else ~/.gunicorn/, shared by every run)
            XDG_RUNTIME_DIR=str(self.logs))
        self.workers = [self._spawn(["-m", "portal.cli", "worker"], self.worker_log(index))
                        for index in range(1, self.queue + 1)]
        return self

    def _spawn(self, args, log_path, **env):
        with open(log_path, "wb") as log:
            return subprocess.Popen([sys.executable, *args], env={**self.env, **env}, cwd=str(BENCH.parent),
                                    stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=180):
        """Wait until the web answers /login and every worker's consumer has started."""
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [proc.args for proc in [self.gunicorn, *self.workers] if proc.poll() is not None]
            if dead:
                raise RuntimeError(f"{dead[0]} exited; see the logs in {self.logs}")
            try:
                web_up = requests.get(self.base + "/login", timeout=10).status_code == 200
            except requests.RequestException:
                web_up = False
            started = all("Huey consumer started" in self.worker_log(index).read_text(errors="replace")
                          for index in range(1, self.queue + 1))
            if web_up and started:
                return self
            time.sleep(0.5)
        raise RuntimeError(f"the scale-out servers did not start in {timeout} s; see the logs in {self.logs}")

    def web_pids(self):
        """The gunicorn worker processes (children of the master)."""
        from report import child_pids

        return child_pids(self.gunicorn.pid)

    def pids(self):
        return [self.gunicorn.pid, *self.web_pids(), *(proc.pid for proc in self.workers)]

    def served(self):
        """(pid, method, path, status) of every request in the access log so far."""
        if not self.access_log.exists():
            return []
        lines = self.access_log.read_text(errors="replace").splitlines()
        return [(int(m[1]), m[2], m[3], int(m[4])) for m in map(ACCESS_LINE.match, lines) if m]

    def stop(self):
        """SIGTERM (graceful: gunicorn finishes requests, huey its tasks), SIGKILL after 20 s."""
        procs = [proc for proc in [self.gunicorn, *self.workers] if proc is not None]
        children = self.web_pids() if self.gunicorn is not None else []
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for pid in children:  # a gunicorn worker outliving a killed master (checked: pids get reused)
            try:
                if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


def main(argv=None):
    from portal.cli import THREADS

    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("hello", "reference", "portal"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=THREADS)  # weibao run's
    parser.add_argument("--db")
    parser.add_argument("--no-consumer", action="store_true")
    args = parser.parse_args(argv)
    instance = Path(os.environ.get("WEIBAO_BENCH_DATA") or BENCH / "data") / f"instance-{args.port}"
    instance.mkdir(parents=True, exist_ok=True)
    consumer = None
    if args.kind == "hello":
        app = hello_app()
    elif args.kind == "reference":
        from reference_app import create_reference_app

        app = create_reference_app(args.db, str(instance))
    else:
        app = portal_app(args.db, instance)
        from portal.heap import freeze_start_up

        freeze_start_up(app)  # as `weibao run` does before it serves
        if not args.no_consumer:
            from portal.queue import start_embedded_consumer

            consumer = start_embedded_consumer(app)
    from waitress import serve

    print(f"{args.kind} serving on 127.0.0.1:{args.port} pid {os.getpid()}", flush=True)
    try:
        serve(app, host="127.0.0.1", port=args.port, threads=args.threads, ident=args.kind,
              connection_limit=1000, channel_timeout=120, _quiet=True)
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
