"""200 tickets created at once from 8 threads through a real HTTP server: 200 distinct, gapless numbers."""

import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from waitress import create_server

from portal.tickets.models import Ticket
from portal.tickets.models import TicketSequence
from tests.tickets.conftest import ticket_body

TICKETS = 200
THREADS = 8


def test_concurrent_creation_gives_distinct_numbers(app, contract, apis):
    server = create_server(app, host="127.0.0.1", port=0, threads=THREADS)
    port = server.effective_port
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    token = apis["engineer"].token

    def create(index):
        body = json.dumps(ticket_body(contract, title=f"并发登记测试 {index}")).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/tickets", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(create, range(TICKETS)))
    finally:
        server.close()
        serving.join(timeout=10)
    elapsed = time.perf_counter() - started
    print(f"\n{TICKETS} tickets from {THREADS} threads in {elapsed:.2f}s ({TICKETS / elapsed:.0f}/s)")
    failures = [result for result in results if result[0] != 201]
    assert not failures, failures[:3]
    numbers = [body["number"] for _status, body in results]
    assert len(set(numbers)) == TICKETS
    year = numbers[0][1:5]
    assert sorted(numbers) == [f"T{year}-{n:06d}" for n in range(1, TICKETS + 1)]  # no gaps either
    assert Ticket.select().count() == TICKETS
    assert TicketSequence.get_by_id(int(year)).last == TICKETS
