"""A small but complete Stripe account, built in a fresh stripe_sim through the SDK, as a
newsroom would bring it: members in two currencies (active, trialing, past due, cancel at
period end, canceled), a recurring donation, a product nobody labelled, a partial refund,
disputed charges and daily payouts, five weeks of history on one test clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from membership.billing.gateway import stripe_client

DAY = 86400
T0 = 1780272000  # 2026-06-01T00:00:00Z: history well before the adoption date (now)


@dataclass
class Account:
    clock: str
    donation_product: str
    unlabelled_product: str
    subs: dict[str, str] = field(default_factory=dict)  # who -> sub id
    customers: dict[str, str] = field(default_factory=dict)  # who -> cus id


def build() -> Account:
    sdk = stripe_client()
    clock = sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "adoption"}).id
    member = sdk.v1.products.create(params={"name": "Member", "metadata": {"stream": "membership", "tier": "member"}})
    gift = sdk.v1.products.create(params={"name": "Monthly gift"})
    legacy = sdk.v1.products.create(params={"name": "Legacy yearly"})

    def price(product: Any, currency: str, amount: int, interval: str = "month") -> Any:
        return sdk.v1.prices.create(params={"product": product.id, "currency": currency, "unit_amount": amount,
                                            "recurring": {"interval": interval}})

    usd, eur = price(member, "usd", 1000), price(member, "eur", 900)
    gift_usd, legacy_usd = price(gift, "usd", 500), price(legacy, "usd", 12000, "year")
    acc = Account(clock=clock, donation_product=gift.id, unlabelled_product=legacy.id)

    def subscribe(who: str, the_price: Any, card: str = "pm_card_visa", **extra: Any) -> str:
        cus = sdk.v1.customers.create(params={
            "email": f"{who}@example.com", "name": who.title(), "payment_method": card,
            "invoice_settings": {"default_payment_method": card}, "test_clock": clock})
        sub = sdk.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": the_price.id}], **extra})
        acc.customers[who], acc.subs[who] = cus.id, sub.id
        return str(sub.id)

    subscribe("alice", usd)
    subscribe("bea", eur, trial_period_days=60)
    subscribe("carl", usd, card="pm_card_chargeCustomerFail")
    dora = subscribe("dora", eur)
    subscribe("emil", gift_usd)
    finn = subscribe("finn", legacy_usd)
    subscribe("gus", usd, card="pm_card_createDispute")
    sdk.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": T0 + 35 * DAY})
    sdk.v1.subscriptions.cancel(finn)
    sdk.v1.subscriptions.update(dora, params={"cancel_at_period_end": True})
    alices = sdk.v1.charges.list(params={"customer": acc.customers["alice"], "limit": 100}).data
    sdk.v1.refunds.create(params={"charge": alices[-1].id, "amount": 300})
    return acc


def renew(acc: Account) -> None:
    """One more month on the clock: the next renewals."""
    sdk = stripe_client()
    sdk.v1.test_helpers.test_clocks.advance(acc.clock, params={"frozen_time": T0 + 66 * DAY})
