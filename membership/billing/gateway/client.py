"""The Stripe client every gateway function uses. Tests and the embedded default swap
the address (STRIPE_API_BASE), never the code path.

Only the gateway calls it; tests also use it to arrange state in the simulator.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import requests
import stripe
from flask import current_app

from membership.config import Settings

_CLIENTS: dict[tuple[str, str], stripe.StripeClient] = {}


def stripe_client() -> stripe.StripeClient:
    """A StripeClient for the current app's settings (cached per key + address)."""
    settings: Settings = current_app.config["SETTINGS"]
    cache_key = (settings.stripe_secret_key, settings.stripe_api_base)
    client = _CLIENTS.get(cache_key)
    if client is None:
        client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base},
            max_network_retries=2,
            http_client=_http_client(settings.stripe_api_base),
        )
        _CLIENTS[cache_key] = client
    return client


def _http_client(api_base: str) -> stripe.HTTPClient:
    """requests with the environment read once, here, instead of on every call.

    A default requests session re-reads the proxy variables (and .netrc) for each
    request, a large share of a re-fetch's CPU on the webhook worker. The proxy the
    environment names for Stripe's address still applies.
    """
    session = requests.Session()
    session.trust_env = False
    proxies: Any = requests.utils.get_environ_proxies(api_base) or None
    return _PacedRequestsClient(session=session, proxy=proxies)


class Pacer:
    """At most `rps` requests a second, spaced evenly (a long job must stay under Stripe's
    rate limit however fast the answers come back). Thread-safe; sleeps the caller."""

    def __init__(self, rps: float) -> None:
        self.interval = 1.0 / rps if rps > 0 else 0.0
        self.requests = 0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
            self.requests += 1
        if start > now:
            time.sleep(start - now)


_PACER: ContextVar[Pacer | None] = ContextVar("stripe_pacer", default=None)


@contextlib.contextmanager
def paced(rps: float) -> Iterator[Pacer]:
    """Every Stripe request made inside (by any gateway function) waits its turn."""
    pacer = Pacer(rps)
    token = _PACER.set(pacer)
    try:
        yield pacer
    finally:
        _PACER.reset(token)


class _PacedRequestsClient(stripe.RequestsClient):
    """requests, waiting for the pacer of the current context (if any) before each try."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        pacer = _PACER.get()
        if pacer is not None:
            pacer.wait()
        return super().request(*args, **kwargs)


def idempotency_key(*parts: object) -> str:
    """A deterministic key from what the request means, so a retry cannot double-charge."""
    return ":".join(str(p) for p in parts)
