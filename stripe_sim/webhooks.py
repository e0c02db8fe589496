"""Webhook signing and delivery.

Signatures follow Stripe exactly (``t=<unix>,v1=<hex>`` over ``f"{t}.{body}"``)
using wall-clock ``t``: receivers check a 300 s tolerance against their own
clock, so simulated time must never leak into the header. Each endpoint gets
one worker thread, which keeps per-endpoint order (unless faults shuffle it)
and a keep-alive connection. Retries back off on non-2xx, compressed in time.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import ipaddress
import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

ResultHook = Callable[[str, str, bool, bool], None]


def sign(payload: bytes, secret: str, t: int | None = None) -> str:
    ts = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def is_loopback_url(url: str) -> bool:
    """The simulator never sends traffic off this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class _Worker(threading.Thread):
    def __init__(self, owner: Dispatcher, url: str) -> None:
        super().__init__(name=f"stripe-sim-webhooks {url}", daemon=True)
        self.owner = owner
        self.url = url
        self.heap: list[tuple[float, int, dict[str, Any]]] = []
        self.conn: http.client.HTTPConnection | None = None
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def run(self) -> None:
        cond = self.owner.cond
        while True:
            with cond:
                while not self.owner.stopping:
                    if self.heap and self.heap[0][0] <= time.monotonic():
                        break
                    wait = (self.heap[0][0] - time.monotonic()) if self.heap else None
                    cond.wait(wait)
                if self.owner.stopping:
                    break
                _due, _seq, job = heapq.heappop(self.heap)
                self.owner.in_flight += 1
            status = 0
            try:
                status = self._post(job["body"], job["secret"])
            finally:
                self.owner.finish(self, job, status)
        if self.conn is not None:
            self.conn.close()

    def _post(self, body: bytes, secret: str) -> int:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                   "Stripe-Signature": sign(body, secret), "Content-Length": str(len(body))}
        for _ in range(2):  # one silent reconnect when a kept-alive socket went stale
            try:
                if self.conn is None:
                    cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
                    self.conn = cls(self.host, self.port, timeout=10)
                self.conn.request("POST", self.path, body=body, headers=headers)
                resp = self.conn.getresponse()
                resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return 0


class Dispatcher:
    """Queues deliveries, retries with backoff, records every attempt."""

    def __init__(self, retry_delays: tuple[float, ...], faults: dict[str, Any] | None, on_result: ResultHook) -> None:
        self.cond = threading.Condition()
        self.workers: dict[str, _Worker] = {}
        self.retry_delays = retry_delays
        self.faults = faults or {}
        self.rand = random.Random(self.faults.get("seed"))
        self.on_result = on_result
        self.deliveries: list[dict[str, Any]] = []
        self.outstanding = 0
        self.in_flight = 0
        self.seq = 0
        self.stopping = False

    def enqueue(self, event: dict[str, Any], body: bytes, url: str, secret: str) -> None:
        copies = 1
        rate = float(self.faults.get("duplicate_rate", 0) or 0)
        if rate and self.rand.random() < rate:
            copies = 2
        with self.cond:
            worker = self.workers.get(url)
            if worker is None:
                worker = _Worker(self, url)
                self.workers[url] = worker
                worker.start()
            for _ in range(copies):
                job = {"event_id": event["id"], "type": event["type"], "url": url, "body": body,
                       "secret": secret, "attempt": 1}
                self.outstanding += 1
                self._push(worker, job, 0.0)
            self.cond.notify_all()

    def _push(self, worker: _Worker, job: dict[str, Any], delay: float) -> None:
        max_delay = float(self.faults.get("max_delay_ms", 0) or 0) / 1000.0
        if self.faults.get("shuffle"):
            max_delay = max(max_delay, 0.05)
        if max_delay:
            delay += self.rand.uniform(0, max_delay)
        self.seq += 1
        heapq.heappush(worker.heap, (time.monotonic() + delay, self.seq, job))

    def finish(self, worker: _Worker, job: dict[str, Any], status: int) -> None:
        ok = 200 <= status < 300
        attempt = int(job["attempt"])
        final = ok or attempt > len(self.retry_delays)
        with self.cond:
            self.in_flight -= 1
            self.deliveries.append({"event_id": job["event_id"], "type": job["type"], "url": job["url"],
                                    "status_code": status, "attempt": attempt})
            if not final:
                job = dict(job, attempt=attempt + 1)
                self._push(worker, job, self.retry_delays[attempt - 1])
            else:
                self.outstanding -= 1
            self.cond.notify_all()
        self.on_result(job["event_id"], job["url"], ok, final)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.outstanding > 0 or self.in_flight > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))
            return True

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        for w in list(self.workers.values()):
            w.join(timeout=5)
