"""A new card for a reader: Checkout in `setup` mode, then that card pays from now on.

Checkout's setup mode stores the card on the customer (a SetupIntent) and charges
nothing. It does not make the card the one that pays: `use_card` sets it as the
customer's default and as the default of each live subscription (Smart Retries charge
`subscription.default_payment_method` first, so both must change).
"""

from __future__ import annotations

from dataclasses import dataclass

from membership.billing.gateway.cards import Card
from membership.billing.gateway.checkout import OpenedSession
from membership.billing.gateway.client import stripe_client
from membership.billing.gateway.errors import translating
from membership.billing.gateway.shapes import as_dict, id_of
from membership.money import stripe_currency


@dataclass(frozen=True)
class SavedCard:
    """What a finished setup session left: whose card and which payment method."""

    customer_id: str | None
    payment_method_id: str | None
    status: str | None


@translating
def open_card_setup(customer_id: str, currency: str, success_url: str, cancel_url: str,
                    idempotency_key: str) -> OpenedSession:
    """The hosted page where the reader types a new card (nothing is charged)."""
    session = stripe_client().v1.checkout.sessions.create(params={
        "mode": "setup", "customer": customer_id, "currency": stripe_currency(currency),
        "success_url": success_url, "cancel_url": cancel_url,
        "setup_intent_data": {"metadata": {"purpose": "update_card"}}},
        options={"idempotency_key": idempotency_key})
    return OpenedSession(str(session.id), str(session.mode), str(session.url or ""))


@translating
def saved_card(session_id: str) -> SavedCard:
    """Read a setup session back: its customer and the card its SetupIntent saved."""
    data = as_dict(stripe_client().v1.checkout.sessions.retrieve(session_id, params={"expand": ["setup_intent"]}))
    intent = data.get("setup_intent") if data.get("mode") == "setup" else None
    intent = intent if isinstance(intent, dict) else {}
    return SavedCard(id_of(data.get("customer")), id_of(intent.get("payment_method")), intent.get("status"))


@translating
def use_card(customer_id: str, payment_method_id: str, subscription_ids: list[str]) -> None:
    """The card pays the customer's next invoices, on every listed subscription too."""
    client = stripe_client()
    client.v1.customers.update(customer_id, params={
        "invoice_settings": {"default_payment_method": payment_method_id}})
    for subscription_id in subscription_ids:
        client.v1.subscriptions.update(subscription_id, params={"default_payment_method": payment_method_id})


@translating
def customer_card(customer_id: str) -> Card | None:
    """The customer's default card (readers with no live subscription may still have one)."""
    customer = stripe_client().v1.customers.retrieve(
        customer_id, params={"expand": ["invoice_settings.default_payment_method"]})
    settings = getattr(customer, "invoice_settings", None)
    pm = getattr(settings, "default_payment_method", None) if settings is not None else None
    card = getattr(pm, "card", None) if pm is not None and not isinstance(pm, str) else None
    if pm is None or card is None:
        return None
    return Card(str(pm.id), str(card.brand), str(card.last4), int(card.exp_month), int(card.exp_year))
