"""Products and Prices: the catalogue mirrored to Stripe, each created at most once."""

from __future__ import annotations

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.money import stripe_currency


@translating
def create_product(name: str, description: str, metadata: dict[str, str], idempotency_key: str) -> str:
    product = stripe_client().v1.products.create(
        params={"name": name, "description": description, "metadata": metadata},
        options={"idempotency_key": idempotency_key})
    return str(product.id)


@translating
def price_for_lookup_key(lookup_key: str, *, product_id: str, currency: str, unit_amount: int,
                         interval: str | None, metadata: dict[str, str], idempotency_key: str) -> str:
    """The active Price with this lookup key, created when none exists (so a lost local
    row or an expired idempotency key still finds the existing Price, never a twin)."""
    client = stripe_client()
    found = client.v1.prices.list(params={"lookup_keys": [lookup_key], "active": True, "limit": 1}).data
    if found:
        return str(found[0].id)
    params: dict[str, object] = {"product": product_id, "currency": stripe_currency(currency),
                                 "unit_amount": unit_amount, "lookup_key": lookup_key, "metadata": metadata}
    if interval is not None:
        params["recurring"] = {"interval": interval}
    return str(client.v1.prices.create(
        params=params, options={"idempotency_key": idempotency_key}).id)  # type: ignore[arg-type]
