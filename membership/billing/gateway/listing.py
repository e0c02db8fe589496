"""Listing Stripe's own records for repairs: the events it kept (30 days), for backfill."""

from __future__ import annotations

from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating


@translating
def events_since(created_gte: int, undelivered_only: bool = False) -> list[dict[str, Any]]:
    """Every event created at or after the time, as JSON-ready dicts (the inbox stores them)."""
    params: dict[str, object] = {"created": {"gte": created_gte}, "limit": 100}
    if undelivered_only:
        params["delivery_success"] = False
    page = stripe_client().v1.events.list(params=params)  # type: ignore[arg-type]
    return [dict(e.to_dict(recursive=True, for_json=True)) for e in page.auto_paging_iter()]
