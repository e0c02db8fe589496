"""Staff-initiated money back and endings: a refund of a charge (all or part), and a
subscription cancelled at once. Both carry an idempotency key, so a repeated request
(a double click, a retry after a timeout) does the thing once. Nothing is recorded
locally here: the ledger and the subscription follow from Stripe's webhooks."""

from __future__ import annotations

from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.reversals import Refund, refund_of


@translating
def refund_charge(charge_id: str, amount_minor: int | None, *, reason: str | None, metadata: dict[str, str],
                  idempotency_key: str) -> Refund:
    """Refund `amount_minor` of the charge (None: whatever is left of it)."""
    params: dict[str, Any] = {"charge": charge_id, "metadata": metadata}
    if amount_minor is not None:
        params["amount"] = amount_minor
    if reason:
        params["reason"] = reason
    created = stripe_client().v1.refunds.create(params=params,  # type: ignore[arg-type]
                                                options={"idempotency_key": idempotency_key})
    return refund_of(created.to_dict(recursive=True))


@translating
def cancel_now(subscription_id: str, *, comment: str, idempotency_key: str) -> None:
    """End the subscription now (no further renewal; no proration refund: a refund is its own step)."""
    stripe_client().v1.subscriptions.cancel(subscription_id,
                                            params={"cancellation_details": {"comment": comment[:500]}},
                                            options={"idempotency_key": idempotency_key})
