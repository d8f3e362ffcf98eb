"""Instructions per request of the measured pages, counted by valgrind's callgrind.

    python bench/instructions.py                          # this checkout, bench/data/weibao-1000000.db
    python bench/instructions.py --root /tmp/before       # a git worktree of an earlier commit

CPU time on a shared machine moved by a third between two runs of the same code, even as the
cheapest batch of 20 requests (cpu_per_request.py); instructions do not move with the machine:
the same code, data and requests count the same, whatever else runs, so two checkouts can be
counted at the same time, one per core. The app is built and each page warmed up as
cpu_per_request.py does; then the counters are dumped (``callgrind_control --dump``) before and
after each page's requests, so start-up is not counted. About two minutes at 1M tickets; needs
valgrind (``apt-get install valgrind``). Instructions are not time (a page that waits on memory
costs more per instruction), but a change that removes work shows as fewer of them.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TRIGGER = re.compile(r"^desc: Trigger: dump (\S+)$", re.MULTILINE)
TOTAL = re.compile(r"^(?:summary|totals): (\d+)$", re.MULTILINE)


def counted(dumps, pages, requests):
    """Millions of instructions per request by page name, from callgrind's dump files."""
    totals = {}
    for path in dumps:
        text = Path(path).read_text(errors="replace")
        label, total = TRIGGER.search(text), TOTAL.search(text)
        if label and total:
            totals[label.group(1)] = int(total.group(1))
    missing = [name for index, name in enumerate(pages) if f"page{index}" not in totals]
    if missing:
        raise RuntimeError(f"no callgrind dump for {missing}")
    return {name: round(totals[f"page{index}"] / requests / 1e6, 3) for index, name in enumerate(pages)}


def serve(root, url, requests):
    """Inside valgrind: build the app, warm each page, dump the counters around each page's requests."""
    sys.path[:0] = [root, str(Path(root) / "bench")]
    import cpu_per_request
    import run

    app, info = run.prepare(url, 1)
    run.bind(url)
    clients = {"cookie": (run._login_test_client(app, run.READER), {}),
               "cookie-hospital": (run._login_test_client(app, run.HOSPITAL_READER), {}),
               "token": (app.test_client(), {"Authorization": f"Bearer {info['reader_token']}"})}
    pages = [(clients[auth], path.format(filter=info["portal_filter"])) for _name, auth, path in cpu_per_request.PAGES]
    for (client, headers), path in pages:
        for _ in range(10):
            assert client.get(path, headers=headers).status_code == 200, path
    dump = ["callgrind_control", "--dump={}", str(os.getpid())]
    subprocess.run([part.format("warm-up") for part in dump], check=True, capture_output=True)
    for index, ((client, headers), path) in enumerate(pages):
        for _ in range(requests):
            client.get(path, headers=headers)
        subprocess.run([part.format(f"page{index}") for part in dump], check=True, capture_output=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(BENCH.parent), help="the portal checkout to count")
    parser.add_argument("--db", default=None, help="database URL (default: the 1M SQLite benchmark file)")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the run inside valgrind
    args = parser.parse_args(argv)
    os.environ.setdefault("WEIBAO_BENCH_DATA", str(BENCH / "data"))
    sys.path.insert(0, str(BENCH))
    import generate
    from cpu_per_request import PAGES

    url = args.db or generate.default_sqlite_url(1_000_000)
    if args.serve:
        return serve(args.root, url, args.requests)
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out", "--dump-instr=no",
                               sys.executable, __file__, "--serve", "--root", args.root, "--db", url,
                               "--requests", str(args.requests)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        result = counted(sorted(Path(out).glob("cg.out*")), [name for name, _auth, _path in PAGES], args.requests)
    for name, millions in result.items():
        print(f"{name:<40} {millions:8.2f} M instructions/request", flush=True)
    print(json.dumps({"root": args.root, "url": url.split("@")[-1], "requests": args.requests,
                      "m_instructions_per_request": result}, ensure_ascii=False))
    return None


if __name__ == "__main__":
    main()
