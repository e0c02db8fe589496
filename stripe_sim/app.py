"""``SimServer``: the public entry point tests, benchmarks and the CLI use."""

from __future__ import annotations

import ipaddress
import json
import os
import threading
from typing import Any

from . import resources  # noqa: F401 - registers routes, renderers and due handlers
from .engine import Config, Sim
from .resources import clocks, webhook_endpoints
from .server import make_http_server
from .webhooks import Dispatcher


def _check_host(host: str) -> None:
    """Bind loopback only: this is a test double holding fake card data."""
    if host == "localhost":
        return
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"stripe_sim binds loopback addresses only, not {host!r}")


class SimServer:
    """An offline Stripe: ``SimServer(...).start()``, then point the SDK at ``.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, webhook_secret: str | None = None,
                 fee_percent_bps: int = 290, fee_fixed_minor: int = 30, state_file: str | None = None,
                 faults: dict[str, Any] | None = None, **settings: Any) -> None:
        _check_host(host)
        self.host = host
        self.port = port
        self.state_file = state_file
        config = Config(webhook_secret=webhook_secret, fee_percent_bps=fee_percent_bps,
                        fee_fixed_minor=fee_fixed_minor, faults=faults)
        for k, v in settings.items():
            if not hasattr(config, k):
                raise TypeError(f"unknown setting {k!r}")
            setattr(config, k, tuple(v) if isinstance(v, list) else v)
        self.sim = Sim(config)
        self.dispatcher = Dispatcher(config.webhook_retry_delays, faults, self._on_result)
        self.sim.on_event = self._on_event
        self.sim.endpoints_for = lambda t: len(webhook_endpoints.matching(self.sim, t))
        self._http: Any = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.url = ""

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> SimServer:
        if self.state_file and os.path.exists(self.state_file):
            extra = self.sim.store.load(self.state_file)
            self.sim.restore_extra(extra)
        self._http = make_http_server(self.host, self.port, self)
        self.port = self._http.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self.sim.url = self.url
        with self.sim.store.lock:
            clocks.ensure_server_payouts(self.sim)
        for target, name in ((self._http.serve_forever, "stripe-sim-http"), (self._tick, "stripe-sim-clock")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http.close_connections()
        for t in self._threads:
            t.join(timeout=5)
        self.dispatcher.stop()
        self._save()
        self._http = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tick(self) -> None:
        """Wall time moves the server-wide clock: run what falls due, persist now and then."""
        n = 0
        while not self._stop.wait(0.2):
            with self.sim.store.lock:
                self.sim.settle()
            n += 1
            if n % 5 == 0:
                self._save()

    def _save(self) -> None:
        if self.state_file and self.sim.store.dirty:
            self.sim.store.save(self.state_file, self.sim.extra_state())

    # -- webhooks ----------------------------------------------------------
    def _on_event(self, evt: dict[str, Any]) -> None:
        endpoints = webhook_endpoints.matching(self.sim, evt["type"])
        if not endpoints:
            return
        body = json.dumps(evt).encode()  # compact: the C encoder; receivers parse either
        for ep in endpoints:
            secret = self.sim.store.m(ep["id"])["secret"]
            self.dispatcher.enqueue(evt, body, ep["url"], secret)

    def _on_result(self, event_id: str, url: str, ok: bool, final: bool) -> None:
        if not ok:
            return
        with self.sim.store.lock:
            evt = self.sim.store.find(event_id)
            meta = self.sim.store.m(event_id)
            done = meta.setdefault("delivered_to", [])
            if evt is not None and url not in done:
                done.append(url)
                evt["pending_webhooks"] = max(0, int(evt["pending_webhooks"]) - 1)

    # -- contract helpers --------------------------------------------------
    def add_webhook_endpoint(self, url: str, secret: str | None = None) -> str:
        with self.sim.store.lock:
            ep = webhook_endpoints.create_endpoint(self.sim, {"url": url, "enabled_events": ["*"]}, secret)
            return str(ep["id"])

    def advance_clock(self, seconds: int) -> int:
        """Move the server-wide clock (objects on no test clock) and run everything due."""
        with self.sim.store.lock:
            self.sim.offset += int(seconds)
            self.sim.run_due(None, self.sim.now(None))
            return self.sim.now(None)

    def now(self) -> int:
        return self.sim.now(None)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.dispatcher.wait(timeout)

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        with self.dispatcher.cond:
            return list(self.dispatcher.deliveries)
