"""Invoice items and one-off invoices through the SDK: drafts, pending items, renewals, lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_sim import SimServer

from .conftest import DAY, add_months, event_types, latest_event_id, monthly_price


def _customer(client: stripe.StripeClient, pm: str | None = "pm_card_visa") -> Any:
    cus = client.v1.customers.create(params={"email": "ii@example.com"})
    if pm:
        attached = client.v1.payment_methods.attach(pm, params={"customer": cus.id})
        client.v1.customers.update(cus.id, params={"invoice_settings": {"default_payment_method": attached.id}})
    return cus


def test_pending_item_lands_on_the_next_renewal(sim: SimServer, client: stripe.StripeClient) -> None:
    price = monthly_price(client, 1000)
    cus = _customer(client)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}]})
    item = client.v1.invoice_items.create(params={"customer": cus.id, "amount": 250, "currency": "usd",
                                                  "description": "Setup fee"})
    assert (item.invoice, item.amount, item.object) == (None, 250, "invoiceitem")
    assert [i.id for i in client.v1.invoice_items.list(params={"customer": cus.id, "pending": True}).data] == [item.id]
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert preview.total == 1250
    start = sub["items"].data[0].current_period_start
    sim.advance_clock(add_months(start, 1) - sim.now() + 60)
    sub = client.v1.subscriptions.retrieve(sub.id)
    renewal = client.v1.invoices.retrieve(sub.latest_invoice)
    assert renewal.billing_reason == "subscription_cycle"
    assert (renewal.subtotal, renewal.total, renewal.amount_paid, renewal.status) == (1250, 1250, 1250, "paid")
    fee = [ln for ln in renewal.lines.data if ln.parent.type == "invoice_item_details"]
    assert [(ln.amount, ln.description, ln.parent.invoice_item_details.invoice_item) for ln in fee] == \
        [(250, "Setup fee", item.id)]
    assert client.v1.invoice_items.retrieve(item.id).invoice == renewal.id
    assert client.v1.invoice_items.list(params={"customer": cus.id, "pending": True}).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoice_items.update(item.id, params={"amount": 1})


def test_item_for_another_subscription_waits(client: stripe.StripeClient) -> None:
    price = monthly_price(client, 1000)
    cus = _customer(client)
    first = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}]})
    item = client.v1.invoice_items.create(params={"customer": cus.id, "amount": 300, "currency": "usd",
                                                  "subscription": first.id})
    second = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                    "expand": ["latest_invoice"]})
    assert second.latest_invoice.total == 1000
    assert client.v1.invoice_items.retrieve(item.id).invoice is None
    assert client.v1.invoices.create_preview(params={"subscription": first.id}).total == 1300


def test_one_off_invoice_lifecycle(client: stripe.StripeClient) -> None:
    cus = _customer(client)
    since = latest_event_id(client)
    pending = client.v1.invoice_items.create(params={"customer": cus.id, "amount": 700, "currency": "usd"})
    inv = client.v1.invoices.create(params={"customer": cus.id, "pending_invoice_items_behavior": "include",
                                            "description": "Workshop"})
    assert (inv.status, inv.billing_reason, inv.total, inv.parent) == ("draft", "manual", 700, None)
    prod = client.v1.products.create(params={"name": "Tote bag"})
    price = client.v1.prices.create(params={"product": prod.id, "currency": "usd", "unit_amount": 1500})
    bag = client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id,
                                                 "pricing": {"price": price.id}, "quantity": 2})
    assert (bag.amount, bag.description, bag.invoice) == (3000, "Tote bag", inv.id)
    assert client.v1.invoices.retrieve(inv.id).total == 3700
    client.v1.invoice_items.update(bag.id, params={"quantity": 1})
    assert client.v1.invoices.retrieve(inv.id).amount_due == 2200
    client.v1.invoice_items.delete(pending.id)
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.total, len(inv.lines.data)) == (1500, 1)
    inv = client.v1.invoices.finalize_invoice(inv.id)
    assert inv.status == "open" and inv.number
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 5, "currency": "usd"})
    paid = client.v1.invoices.pay(inv.id)
    assert (paid.status, paid.amount_paid) == ("paid", 1500)
    types = event_types(client, since)
    assert types[:2] == ["invoiceitem.created", "invoice.created"]
    for t in ("invoiceitem.deleted", "invoice.finalized", "invoice.paid", "invoice.updated"):
        assert t in types


def test_void_uncollectible_and_delete(client: stripe.StripeClient) -> None:
    cus = _customer(client, pm=None)
    since = latest_event_id(client)
    drafts = [client.v1.invoices.create(params={"customer": cus.id, "collection_method": "send_invoice",
                                                "days_until_due": 30}) for _ in range(3)]
    item = client.v1.invoice_items.create(params={"customer": cus.id, "invoice": drafts[2].id, "amount": 100,
                                                  "currency": "usd"})
    for d in drafts[:2]:
        client.v1.invoice_items.create(params={"customer": cus.id, "invoice": d.id, "amount": 900, "currency": "usd"})
    voided = client.v1.invoices.void_invoice(client.v1.invoices.finalize_invoice(drafts[0].id).id)
    assert voided.status == "void"
    opened = client.v1.invoices.finalize_invoice(drafts[1].id)
    assert opened.due_date == opened.status_transitions.finalized_at + 30 * DAY
    bad = client.v1.invoices.mark_uncollectible(opened.id)
    assert bad.status == "uncollectible"
    gone = client.v1.invoices.delete(drafts[2].id)
    assert gone.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.retrieve(drafts[2].id)
    assert client.v1.invoice_items.retrieve(item.id).invoice is None  # pending again
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.delete(opened.id)
    types = event_types(client, since)
    for t in ("invoice.voided", "invoice.marked_uncollectible", "invoice.deleted"):
        assert types.count(t) == 1


def test_auto_advance_finalizes_and_charges(sim: SimServer, client: stripe.StripeClient) -> None:
    cus = _customer(client)
    inv = client.v1.invoices.create(params={"customer": cus.id, "auto_advance": True})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 4200, "currency": "usd"})
    assert inv.automatically_finalizes_at == inv.created + 3600
    sim.advance_clock(3601)
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.status, inv.amount_paid) == ("paid", 4200)


def test_customer_credit_applies_at_finalization(client: stripe.StripeClient) -> None:
    cus = _customer(client)
    client.v1.customers.balance_transactions.create(cus.id, params={"amount": -500, "currency": "usd"})
    inv = client.v1.invoices.create(params={"customer": cus.id})
    client.v1.invoice_items.create(params={"customer": cus.id, "invoice": inv.id, "amount": 2000, "currency": "usd"})
    assert client.v1.invoices.retrieve(inv.id).amount_due == 2000
    inv = client.v1.invoices.finalize_invoice(inv.id)
    assert (inv.amount_due, inv.starting_balance, inv.ending_balance) == (1500, -500, 0)
    assert client.v1.customers.retrieve(cus.id).balance == 0


def test_shapes_match_fixtures(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    cus = _customer(client, pm=None)
    item = client.v1.invoice_items.create(params={"customer": cus.id, "amount": 100, "currency": "usd"})
    assert set(item.to_dict()) == set(official_shapes["invoiceitem"])
    assert set(client.v1.invoice_items.delete(item.id).to_dict()) == set(official_shapes["deleted_invoiceitem"])
    inv = client.v1.invoices.create(params={"customer": cus.id})
    assert set(client.v1.invoices.delete(inv.id).to_dict()) == set(official_shapes["deleted_invoice"])
