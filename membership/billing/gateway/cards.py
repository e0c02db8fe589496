"""The card that will pay a subscription's next invoice (we store no card details)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating


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


@translating
def default_card(subscription_id: str) -> Card | None:
    """The subscription's default payment method's card, else the customer's default."""
    sub = stripe_client().v1.subscriptions.retrieve(
        subscription_id,
        params={"expand": ["default_payment_method", "customer.invoice_settings.default_payment_method"]},
    )
    card = _card_of(getattr(sub, "default_payment_method", None))
    if card is None:
        customer = getattr(sub, "customer", None)
        settings = getattr(customer, "invoice_settings", None) if not isinstance(customer, str) else None
        card = _card_of(getattr(settings, "default_payment_method", None) if settings else None)
    return card
