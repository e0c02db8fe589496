"""Credit notes and customer balance transactions through the SDK (the basis of staff refunds)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from .conftest import event_types, latest_event_id, monthly_price


def _paid_invoice(client: stripe.StripeClient, amount: int = 2000) -> Any:
    cus = client.v1.customers.create(params={"email": "cn@example.com"})
    price = monthly_price(client, amount)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_visa"})
    return client.v1.invoices.retrieve(sub.latest_invoice)


def test_refund_part_of_a_paid_invoice(client: stripe.StripeClient) -> None:
    inv = _paid_invoice(client)
    line = inv.lines.data[0]
    since = latest_event_id(client)
    cn = client.v1.credit_notes.create(params={
        "invoice": inv.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 500}],
        "refund_amount": 500, "reason": "product_unsatisfactory", "memo": "Late delivery"})
    assert (cn.total, cn.type, cn.pre_payment_amount, cn.post_payment_amount) == (500, "post_payment", 0, 500)
    assert cn.number == f"{inv.number}-CN-01" and cn.status == "issued"
    assert cn.lines.data[0].invoice_line_item == line.id and cn.lines.data[0].amount == 500
    refund = client.v1.refunds.retrieve(cn.refunds[0].refund)
    assert refund.amount == 500 and refund.metadata.credit_note == cn.id
    inv = client.v1.invoices.retrieve(inv.id)
    assert inv.post_payment_credit_notes_amount == 500
    types = event_types(client, since)
    assert types[:4] == ["refund.created", "charge.refunded", "credit_note.created", "invoice.updated"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.credit_notes.void_credit_note(cn.id)  # refunds cannot be undone
    with pytest.raises(stripe.InvalidRequestError) as unsplit:
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 300})
    assert unsplit.value.param == "refund_amount"
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 1600, "refund_amount": 1600})
    assert too_much.value.param == "amount"


def test_credit_to_balance_then_void(client: stripe.StripeClient) -> None:
    inv = _paid_invoice(client)
    preview = client.v1.credit_notes.preview(params={"invoice": inv.id, "amount": 700, "credit_amount": 700})
    assert preview.total == 700 and client.v1.credit_notes.list(params={"invoice": inv.id}).data == []
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 700, "credit_amount": 700})
    assert client.v1.customers.retrieve(inv.customer).balance == -700
    txn = client.v1.customers.balance_transactions.retrieve(inv.customer, cn.customer_balance_transaction)
    assert (txn.type, txn.amount, txn.ending_balance, txn.credit_note) == ("credit_note", -700, -700, cn.id)
    cn = client.v1.credit_notes.void_credit_note(cn.id)
    assert cn.status == "void" and cn.voided_at is not None
    assert client.v1.customers.retrieve(inv.customer).balance == 0
    assert [c.id for c in client.v1.credit_notes.list(params={"customer": inv.customer}).data] == [cn.id]


def test_open_invoice_is_reduced_first(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "open@example.com"})
    price = monthly_price(client, 1500)
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_chargeDeclined"})
    inv = client.v1.invoices.retrieve(sub.latest_invoice)
    assert inv.status == "open"
    cn = client.v1.credit_notes.create(params={"invoice": inv.id, "lines": [
        {"type": "custom_line_item", "description": "Goodwill", "unit_amount": 500, "quantity": 1}]})
    assert (cn.type, cn.pre_payment_amount) == ("pre_payment", 500)
    inv = client.v1.invoices.retrieve(inv.id)
    assert (inv.amount_due, inv.amount_remaining, inv.pre_payment_credit_notes_amount) == (1000, 1000, 500)
    client.v1.credit_notes.create(params={"invoice": inv.id, "amount": 1000})
    assert client.v1.invoices.retrieve(inv.id).status == "paid"


def test_manual_balance_adjustment(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create(params={"email": "bal@example.com"})
    txn = client.v1.customers.balance_transactions.create(cus.id, params={"amount": -300, "currency": "usd",
                                                                          "description": "Apology"})
    assert (txn.type, txn.ending_balance) == ("adjustment", -300)
    listed = client.v1.customers.balance_transactions.list(cus.id).data
    assert [t.id for t in listed] == [txn.id]


def test_shapes_match_fixtures(client: stripe.StripeClient, official_shapes: dict[str, Any]) -> None:
    inv = _paid_invoice(client)
    cn = client.v1.credit_notes.create(params={
        "invoice": inv.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": inv.lines.data[0].id}],
        "credit_amount": 2000})
    assert set(cn.to_dict()) == set(official_shapes["credit_note"])
    assert set(cn.lines.data[0].to_dict()) == set(official_shapes["credit_note_line_item"])
    txn = client.v1.customers.balance_transactions.retrieve(inv.customer, cn.customer_balance_transaction)
    assert set(txn.to_dict()) == set(official_shapes["customer_balance_transaction"])
