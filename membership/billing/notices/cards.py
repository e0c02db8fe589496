"""Cards expiring next month: asked of Stripe, a bounded slice of subscriptions a day.

We do not store card details, so the expiry comes from the subscription's (or the
customer's) default payment method. Each day of the month (1-28) checks the
subscriptions whose id falls in that day's slice, at most `limit` Stripe calls a run,
so a month covers everyone once without a burst; days 29-31 rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe

from membership.billing.gateway import stripe_client
from membership.billing.models import Subscription
from membership.billing.notices.scheduling import Candidate, auto_renewing, chunks, record_missing

log = logging.getLogger(__name__)
KIND = "card_expiring"
SLICES = 28


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def _card_of(pm: Any) -> Card | None:
    card = getattr(pm, "card", None) if pm is not None and not isinstance(pm, str) else None
    if card is None:
        return None
    return Card(pm.id, str(card.brand), str(card.last4), int(card.exp_month), int(card.exp_year))


def default_card(client: stripe.StripeClient, stripe_subscription_id: str) -> Card | None:
    """The card that will pay the next invoice: the subscription's default, else the customer's."""
    sub = client.v1.subscriptions.retrieve(
        stripe_subscription_id,
        params={"expand": ["default_payment_method", "customer.invoice_settings.default_payment_method"]},
    )
    card = _card_of(getattr(sub, "default_payment_method", None))
    if card is None:
        customer = getattr(sub, "customer", None)
        settings = getattr(customer, "invoice_settings", None) if not isinstance(customer, str) else None
        card = _card_of(getattr(settings, "default_payment_method", None) if settings else None)
    return card


def next_month(now: datetime) -> tuple[int, int]:
    return (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)


def find_expiring_cards(now: datetime, limit: int = 500) -> int:
    """Record a notice per subscription whose card expires next month (today's slice)."""
    if now.day > SLICES:
        return 0
    year, month = next_month(now)
    client, calls, created = stripe_client(), 0, 0
    stmt = auto_renewing(Subscription.id % SLICES == now.day - 1)
    for rows in chunks(stmt, size=100):
        batch: list[Candidate] = []
        for sub, email in rows:
            if calls >= limit:
                log.warning("card expiry check stopped at its limit", extra={"limit": limit})
                return created + record_missing(KIND, batch)
            calls += 1
            try:
                card = default_card(client, sub.stripe_subscription_id)
            except stripe.StripeError as exc:
                log.warning("card expiry check failed", extra={"subscription": sub.id, "error": str(exc)})
                continue
            if card and (card.exp_year, card.exp_month) == (year, month):
                context = {"subscription_id": sub.id, "brand": card.brand, "last4": card.last4,
                           "exp_month": card.exp_month, "exp_year": card.exp_year}
                batch.append(Candidate(f"{card.payment_method_id}:{year}-{month:02d}", email,
                                       sub.reader_id, context, now, None))
        created += record_missing(KIND, batch)
    return created
