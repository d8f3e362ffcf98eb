"""The three servers the runner measures, each its own process on 127.0.0.1 under waitress:

    python bench/servers.py hello     --port 8101 --threads 8
    python bench/servers.py reference --port 8102 --threads 8 --db URL
    python bench/servers.py portal    --port 8103 --threads 8 --db URL [--no-consumer]

``portal`` is what ``weibao run`` serves: the app with its embedded huey consumer (SLA sweep
every minute) in the same process, on waitress. The instance folder (secret key, queue) is
bench/data/instance-<port>.
"""

import argparse
import os
import sys
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


def portal_app(url, instance):
    os.environ["WEIBAO_INSTANCE_PATH"] = str(instance)
    from portal import create_app

    return create_app({"DATABASE_URL": url, "QUEUE_URL": f"sqlite:///{instance / 'queue.db'}"})


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("hello", "reference", "portal"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
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
