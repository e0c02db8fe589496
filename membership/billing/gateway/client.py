"""The Stripe client every gateway function uses. Tests and the embedded default swap
the address (STRIPE_API_BASE), never the code path.

Only the gateway calls it; tests also use it to arrange state in the simulator.
"""

from __future__ import annotations

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
    return stripe.RequestsClient(session=session, proxy=proxies)


def idempotency_key(*parts: object) -> str:
    """A deterministic key from what the request means, so a retry cannot double-charge."""
    return ":".join(str(p) for p in parts)
