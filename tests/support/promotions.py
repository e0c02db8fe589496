"""Tests share one stripe_sim for the whole run, and an active intro offer there shows on
every later test's /join: a test that makes one switches it off again with this."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from membership.billing.gateway import stripe_client
from membership.billing.promotions import forget_intro_offers


def retire_intro_offers(app: Flask) -> int:
    """Switch off every active promotion code that is a tier's intro offer; how many."""
    retired = 0
    with app.app_context():
        client = stripe_client()
        for code in client.v1.promotion_codes.list(params={"limit": 100}).auto_paging_iter():
            if code.active and (code.to_dict().get("metadata") or {}).get("intro"):
                client.v1.promotion_codes.update(code.id, params={"active": False})
                retired += 1
        forget_intro_offers()
    return retired


@contextmanager
def intro_offers_retired_after(app: Flask) -> Iterator[None]:
    try:
        yield
    finally:
        retire_intro_offers(app)
