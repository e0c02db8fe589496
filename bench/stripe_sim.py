"""Benchmark stripe_sim: SDK calls/s, webhook events delivered/s, and a bare-HTTP baseline.

The simulator runs as ``python -m stripe_sim`` in a child process on loopback and
``--clients`` worker processes (default 2) drive it, so no single Python
process's GIL caps the number; stripe-python itself costs about 1 ms of client
CPU per call, which is why one client process alone cannot reach 1,000 calls/s.
Phases (each bounded in time and iterations):
  1. baseline: bare ``requests.Session().get(/_sim/health)`` over keep-alive;
  2. SDK mix: create customer, retrieve it, list customers, create a subscription
     with pm_card_visa, retrieve its invoice;
  3. webhooks: a local receiver is registered and the mix runs again; events
     delivered per second until the outgoing queue is drained.
The last line printed is one JSON object.

    .venv/bin/python bench/stripe_sim.py [--seconds 6] [--clients 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import stripe

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_bench"
MAX_ITERS = 50_000


class _Sink(BaseHTTPRequestHandler):
    """The webhook receiver: counts deliveries, answers 200 on a kept-alive connection."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    count = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Sink.lock:
            _Sink.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # loopback: skip per-request proxy/netrc environment scans
    return s


class KeepAliveClient(stripe.HTTPClient):
    """stripe-python transport on one kept-alive ``http.client`` connection.

    The SDK's own machinery (encoding, headers, retries, JSON -> StripeObject) is
    unchanged; only the HTTP layer is lighter than requests and sends each
    request in a single write (headers and body together).
    """

    name = "keepalive-http.client"

    def __init__(self, base: str) -> None:
        super().__init__()
        parts = urlsplit(base)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, *,
                _usage: list[str] | None = None) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = post_data.encode() if isinstance(post_data, str) else post_data
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
                self._conn.connect()
                self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                hdrs = dict(headers or {})
                if body is not None:
                    hdrs["Content-Length"] = str(len(body))
                self._conn.putrequest(method.upper(), path, skip_accept_encoding=True)
                for k, v in hdrs.items():
                    self._conn.putheader(k, v)
                self._conn.endheaders(body)
                resp = self._conn.getresponse()
                return resp.read().decode("utf-8"), resp.status, dict(resp.getheaders())
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _client(url: str, session: requests.Session, transport: str = "requests") -> stripe.StripeClient:
    http_client: stripe.HTTPClient = (KeepAliveClient(url) if transport == "keepalive"
                                      else stripe.RequestsClient(session=session))
    return stripe.StripeClient("sk_test_bench", base_addresses={"api": url}, max_network_retries=0,
                               http_client=http_client)


def _worker(kind: str, url: str, price_id: str, seconds: float, start_at: float,
            transport: str) -> tuple[int, float]:
    """One client process: run ``kind`` for ``seconds`` (bounded); return (calls, elapsed)."""
    with _session() as session:
        client = _client(url, session, transport)
        while time.time() < start_at:  # start together
            time.sleep(0.001)
        calls = 0
        t0 = time.perf_counter()
        for i in range(MAX_ITERS):
            if kind == "baseline":
                session.get(f"{url}/_sim/health").raise_for_status()
                calls += 1
            else:
                cus = client.v1.customers.create(params={"email": f"bench{i}@example.com"})
                client.v1.customers.retrieve(cus.id)
                client.v1.customers.list(params={"limit": 3})
                sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price_id}],
                                                             "default_payment_method": "pm_card_visa"})
                client.v1.invoices.retrieve(str(sub.latest_invoice))
                calls += 5
            if time.perf_counter() - t0 >= seconds:
                break
        return calls, time.perf_counter() - t0


def _phase(pool: Any, clients: int, kind: str, url: str, price_id: str, seconds: float,
           transport: str = "keepalive") -> tuple[int, float]:
    start_at = time.time() + 0.3
    results = pool.starmap(_worker, [(kind, url, price_id, seconds, start_at, transport)] * clients)
    return sum(r[0] for r in results), max(r[1] for r in results)


def _cpu_seconds(pid: int) -> float:
    """utime+stime of a process (Linux /proc); 0.0 elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _wait_healthy(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/_sim/health", timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("stripe_sim did not start")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0, help="duration of the SDK mix phase (1-10)")
    ap.add_argument("--clients", type=int, default=2, help="client processes (1-8)")
    args = ap.parse_args()
    seconds = max(1.0, min(args.seconds, 10.0))
    clients = max(1, min(args.clients, 8))

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "stripe_sim", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    sink.daemon_threads = True
    sink_thread = threading.Thread(target=sink.serve_forever, daemon=True)
    sink_thread.start()
    session = _session()
    try:
        _wait_healthy(url)
        client = _client(url, session)
        prod = client.v1.products.create(params={"name": "Bench membership"})
        price = client.v1.prices.create(params={"product": prod.id, "currency": "usd", "unit_amount": 500,
                                                "recurring": {"interval": "month"}})
        with mp.get_context("spawn").Pool(clients) as pool:
            _phase(pool, clients, "sdk", url, price.id, 0.5)  # warm-up (imports, connections)
            base_n, base_t = _phase(pool, clients, "baseline", url, price.id, min(3.0, seconds / 2))
            cpu0 = _cpu_seconds(proc.pid)
            calls, elapsed = _phase(pool, clients, "sdk", url, price.id, seconds)
            server_cpu = _cpu_seconds(proc.pid) - cpu0
            req_calls, req_elapsed = _phase(pool, clients, "sdk", url, price.id, min(3.0, seconds / 2), "requests")
            client.v1.webhook_endpoints.create(params={"url": f"http://127.0.0.1:{sink.server_address[1]}/hook",
                                                       "enabled_events": ["*"]})
            t0 = time.perf_counter()
            _phase(pool, clients, "sdk", url, price.id, min(3.0, seconds / 2))
            session.post(f"{url}/_sim/webhooks/wait", data={"timeout": "60"}, timeout=70)
            events_elapsed = time.perf_counter() - t0 - 0.3
            delivered = _Sink.count
    finally:
        session.close()
        proc.terminate()
        proc.wait(timeout=10)
        sink.shutdown()
        sink.server_close()
        sink_thread.join(timeout=5)

    sdk_rate = calls / elapsed
    base_rate = base_n / base_t
    result = {
        "sdk_calls_per_s": round(sdk_rate, 1), "sdk_calls": calls, "sdk_seconds": round(elapsed, 2),
        "events_per_s": round(delivered / events_elapsed, 1), "events_delivered": delivered,
        "baseline_per_s": round(base_rate, 1), "ratio": round(sdk_rate / base_rate, 3), "clients": clients,
        "sdk_calls_per_s_requests_transport": round(req_calls / req_elapsed, 1),
        "server_cpu_share": round(server_cpu / elapsed, 2), "server_us_per_call": round(server_cpu / calls * 1e6),
    }
    print(f"SDK mix: {calls} calls in {elapsed:.2f}s = {sdk_rate:.0f}/s with {clients} client processes "
          f"(SDK over requests instead: {result['sdk_calls_per_s_requests_transport']}/s; server CPU "
          f"{result['server_cpu_share']:.0%} of a core); "
          f"baseline GET /_sim/health {base_rate:.0f}/s; webhooks {delivered} delivered "
          f"({result['events_per_s']}/s)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
