"""Fixtures for the simulator's own tests: a fresh sim, an SDK client, a webhook receiver.

Everything goes through stripe-python over loopback HTTP, as the product does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from stripe_sim import SimServer
from tests.support.services import unavailable

SECRET = "whsec_test"
REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / ".." / "shared" / "stripe" / "fixtures3.json"
DAY = 86400


@pytest.fixture(scope="session")
def official_shapes() -> dict[str, Any]:
    """Stripe's official object shapes from ../shared (read, never copied in). CI has them
    beside the checkout, so there a missing file fails instead of skipping."""
    if not FIXTURES.exists():
        unavailable("the shared Stripe fixtures", FileNotFoundError(str(FIXTURES)))
    resources: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
    return resources


class Receiver:
    """A tiny webhook receiver on 127.0.0.1 that records raw bodies and headers."""

    def __init__(self, fail_first: int = 0) -> None:
        self.hits: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.hits.append((dict(self.headers.items()), body))
                    fail = outer.fail_first > 0
                    if fail:
                        outer.fail_first -= 1
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(b) for _h, b in self.hits]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(host="127.0.0.1", port=0, webhook_secret=SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def make_client() -> Iterator[Callable[[SimServer], stripe.StripeClient]]:
    sessions: list[requests.Session] = []

    def make(server: SimServer, key: str = "sk_test_sim") -> stripe.StripeClient:
        session = requests.Session()
        sessions.append(session)
        return stripe.StripeClient(key, base_addresses={"api": server.url}, max_network_retries=0,
                                   http_client=stripe.RequestsClient(session=session))

    yield make
    for s in sessions:
        s.close()


@pytest.fixture
def client(sim: SimServer, make_client: Callable[[SimServer], stripe.StripeClient]) -> stripe.StripeClient:
    return make_client(sim)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """For the hosted pages (a browser's form posts)."""
    s = requests.Session()
    yield s
    s.close()


NOISE = ("payout.", "test_helpers.", "invoice.upcoming")


def event_types(client: stripe.StripeClient, since_id: str | None = None, noise: tuple[str, ...] = NOISE,
                **filters: Any) -> list[str]:
    """Event types oldest-first, after ``since_id`` when given, minus clock/payout noise."""
    evts = list(client.v1.events.list(params={"limit": 100, **filters}).auto_paging_iter())
    evts.reverse()
    if since_id:
        ids = [e.id for e in evts]
        evts = evts[ids.index(since_id) + 1:]
    return [e.type for e in evts if not e.type.startswith(noise)]


def latest_event_id(client: stripe.StripeClient) -> str | None:
    page = client.v1.events.list(params={"limit": 1})
    return page.data[0].id if page.data else None


def add_months(ts: int, months: int) -> int:
    """Independent re-implementation of Stripe's month stepping (day clamped)."""
    import calendar
    from datetime import datetime

    d = datetime.fromtimestamp(ts, tz=UTC)
    m = d.month - 1 + months
    y, mo = d.year + m // 12, m % 12 + 1
    return int(d.replace(year=y, month=mo, day=min(d.day, calendar.monthrange(y, mo)[1])).timestamp())


def monthly_price(client: stripe.StripeClient, amount: int = 1000, currency: str = "usd",
                  interval: str = "month", name: str = "Membership") -> Any:
    prod = client.v1.products.create(params={"name": name})
    return client.v1.prices.create(params={"product": prod.id, "currency": currency, "unit_amount": amount,
                                           "recurring": {"interval": interval}})
