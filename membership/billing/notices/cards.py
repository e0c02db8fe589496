"""Cards expiring next month: asked of Stripe, a bounded slice of subscriptions a day.

We do not store card details, so the expiry comes from the subscription's (or the
customer's) default payment method. Each day of the month (1-28) checks the
subscriptions whose id falls in that day's slice, at most `limit` Stripe calls a run,
so a month covers everyone once without a burst; days 29-31 rest.
"""

from __future__ import annotations

import logging
from datetime import datetime

from membership.billing.gateway.cards import default_card
from membership.billing.gateway.errors import GatewayError
from membership.billing.models import Subscription
from membership.billing.notices.scheduling import Candidate, auto_renewing, chunks, record_missing

log = logging.getLogger(__name__)
KIND = "card_expiring"
SLICES = 28


def next_month(now: datetime) -> tuple[int, int]:
    return (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)


def find_expiring_cards(now: datetime, limit: int = 500) -> int:
    """Record a notice per subscription whose card expires next month (today's slice)."""
    if now.day > SLICES:
        return 0
    year, month = next_month(now)
    calls, created = 0, 0
    stmt = auto_renewing(Subscription.id % SLICES == now.day - 1)
    for rows in chunks(stmt, size=100):
        batch: list[Candidate] = []
        for sub, email in rows:
            if calls >= limit:
                log.warning("card expiry check stopped at its limit", extra={"limit": limit})
                return created + record_missing(KIND, batch)
            calls += 1
            try:
                card = default_card(sub.stripe_subscription_id)
            except GatewayError as exc:
                log.warning("card expiry check failed", extra={"subscription": sub.id, "error": str(exc)})
                continue
            if card and (card.exp_year, card.exp_month) == (year, month):
                context = {"subscription_id": sub.id, "brand": card.brand, "last4": card.last4,
                           "exp_month": card.exp_month, "exp_year": card.exp_year}
                batch.append(Candidate(f"{card.payment_method_id}:{year}-{month:02d}", email,
                                       sub.reader_id, context, now, None))
        created += record_missing(KIND, batch)
    return created
