"""Top-level keys of every object the simulator returns vs Stripe's official fixtures.

The fixtures (Stripe's OpenAPI ``fixtures3.json``) are read from ``../shared``
relative to the repo root and the test skips when they are absent.
"""

from __future__ import annotations

from typing import Any

import requests
import stripe

from stripe_sim import SimServer

from .conftest import DAY, monthly_price

# Keys the fixture has that the simulator leaves out on purpose.
OMITTED: dict[str, dict[str, str]] = {
    "invoice": {"subscription": "removed in basil (2025-03-31); stripe-python 16's Invoice has no such attribute "
                                "and the sub lives at parent.subscription_details.subscription"},
}
# Keys the simulator adds that the fixture lacks, each as real Stripe does.
EXTRA: dict[str, dict[str, str]] = {
    "webhook_endpoint": {"secret": "returned by create only, as Stripe does"},
    "refund": {"failure_reason": "present on failed refunds", "failure_balance_transaction": "failed refunds"},
}


def _collect(sim: SimServer, client: stripe.StripeClient, http: requests.Session) -> dict[str, Any]:
    objs: dict[str, Any] = {}
    objs["test_helpers.test_clock"] = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1767225600})
    cus = objs["customer"] = client.v1.customers.create(params={"email": "shape@example.com"})
    price = objs["price"] = monthly_price(client, 1000)
    objs["product"] = client.v1.products.retrieve(price.product)
    sub = objs["subscription"] = client.v1.subscriptions.create(params={
        "customer": cus.id, "items": [{"price": price.id}], "default_payment_method": "pm_card_createDispute"})
    objs["subscription_item"] = sub["items"].data[0]
    objs["plan"] = sub["items"].data[0].plan
    inv = objs["invoice"] = client.v1.invoices.retrieve(sub.latest_invoice)
    objs["line_item"] = inv.lines.data[0]
    ip = objs["invoice_payment"] = client.v1.invoice_payments.list(params={"invoice": inv.id}).data[0]
    pi = objs["payment_intent"] = client.v1.payment_intents.retrieve(ip.payment.payment_intent)
    ch = objs["charge"] = client.v1.charges.retrieve(pi.latest_charge)
    objs["balance_transaction"] = client.v1.balance_transactions.retrieve(ch.balance_transaction)
    objs["payment_method"] = client.v1.payment_methods.retrieve(ch.payment_method)
    objs["dispute"] = client.v1.disputes.list(params={"charge": ch.id}).data[0]
    big = client.v1.payment_intents.create(params={"amount": 90000, "currency": "usd", "confirm": True,
                                                   "payment_method": "pm_card_visa"})
    objs["refund"] = client.v1.refunds.create(params={"payment_intent": big.id, "amount": 100})
    cs = objs["checkout.session"] = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}], "success_url": "http://x/"})
    objs["item"] = client.v1.checkout.sessions.line_items.list(cs.id).data[0]
    objs["billing_portal.session"] = client.v1.billing_portal.sessions.create(params={"customer": cus.id})
    objs["webhook_endpoint"] = client.v1.webhook_endpoints.create(params={"url": "http://127.0.0.1:9/",
                                                                          "enabled_events": ["*"]})
    objs["event"] = client.v1.events.list(params={"limit": 1}).data[0]
    objs["deleted_customer"] = client.v1.customers.delete(cus.id)
    sim.advance_clock(4 * DAY)
    objs["payout"] = client.v1.payouts.list(params={"limit": 1}).data[0]
    objs["balance"] = client.v1.balance.retrieve()
    return objs


def test_top_level_keys_match_official_fixtures(sim: SimServer, client: stripe.StripeClient,
                                                http: requests.Session, official_shapes: dict[str, Any]) -> None:
    reference = official_shapes
    objs = _collect(sim, client, http)
    assert len(objs) >= 24
    problems = []
    for kind, obj in objs.items():
        ours = set(obj.to_dict().keys())
        ref = set(reference[kind].keys())
        assert obj.object == reference[kind]["object"] or kind == "deleted_customer" and obj.deleted is True
        missing = ref - ours - set(OMITTED.get(kind, {}))
        extra = ours - ref - set(EXTRA.get(kind, {}))
        if missing or extra:
            problems.append(f"{kind}: missing {sorted(missing)} extra {sorted(extra)}")
    assert not problems, "\n".join(problems)


def test_allow_lists_name_real_fixture_keys(official_shapes: dict[str, Any]) -> None:
    """An omission for a key the fixture doesn't have would hide nothing: keep the list honest."""
    reference = official_shapes
    for kind, keys in OMITTED.items():
        assert set(keys) <= set(reference[kind]), kind
    for kind, keys in EXTRA.items():
        assert not set(keys) & set(reference[kind]), kind
