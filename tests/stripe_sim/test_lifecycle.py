"""End-to-end lifecycles on a test clock, driven only through stripe-python and the hosted pages."""

from __future__ import annotations

from typing import Any

import requests
import stripe

from .conftest import DAY, add_months, event_types, latest_event_id, monthly_price

T0 = 1767225600  # 2026-01-01T00:00:00Z
OK_URL = "http://127.0.0.1:9/ok?session={CHECKOUT_SESSION_ID}"
FIRST_PAYMENT = ["customer.subscription.created", "invoice.created", "invoice.finalized", "payment_intent.created",
                 "charge.succeeded", "payment_intent.succeeded", "invoice_payment.paid", "invoice.paid",
                 "invoice.payment_succeeded"]
RENEWAL_OK = ["customer.subscription.updated", "invoice.created", "invoice.finalized", "payment_intent.created",
              "charge.succeeded", "payment_intent.succeeded", "invoice_payment.paid", "invoice.paid",
              "invoice.payment_succeeded"]


def _clock_customer(client: stripe.StripeClient, email: str = "reader@example.com") -> tuple[Any, Any]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "lifecycle"})
    cus = client.v1.customers.create(params={"email": email, "test_clock": clock.id,
                                             "metadata": {"reader_id": "42"}})
    return clock, cus


def _advance(client: stripe.StripeClient, clock: Any, to: int) -> None:
    res = client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": to})
    assert res.status == "ready" and res.frozen_time == to


def _checkout(client: stripe.StripeClient, http: requests.Session, cus: Any, price: Any, card: str) -> Any:
    cs = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": cus.id, "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": OK_URL, "cancel_url": "http://127.0.0.1:9/cancel", "client_reference_id": "42",
        "metadata": {"reader_id": "42"}, "subscription_data": {"metadata": {"reader_id": "42"}}})
    assert cs.url.endswith(f"/checkout/{cs.id}") and cs.status == "open"
    page = http.get(cs.url)
    assert page.status_code == 200 and "name='card_number'" in page.text
    done = http.post(cs.url, data={"card_number": card}, allow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["Location"] == OK_URL.replace("{CHECKOUT_SESSION_ID}", cs.id)
    return client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["subscription.latest_invoice.payments"]})


def _portal(client: stripe.StripeClient, http: requests.Session, cus: Any, action: str, **form: str) -> None:
    bps = client.v1.billing_portal.sessions.create(params={"customer": cus.id, "return_url": "http://127.0.0.1:9/acct"})
    assert "Your subscriptions" in http.get(bps.url).text
    r = http.post(f"{bps.url}/{action}", data=form, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "http://127.0.0.1:9/acct", r.text


def test_checkout_then_13_renewals_failure_recovery_and_cancel(client: stripe.StripeClient,
                                                               http: requests.Session) -> None:
    clock, cus = _clock_customer(client)
    price = monthly_price(client, 1000)
    mark = latest_event_id(client)
    cs = _checkout(client, http, cus, price, "4242 4242 4242 4242")
    assert event_types(client, mark) == ["payment_method.attached", *FIRST_PAYMENT, "checkout.session.completed"]
    assert (cs.status, cs.payment_status, cs.client_reference_id, cs.customer) == ("complete", "paid", "42", cus.id)
    sub = cs.subscription
    assert sub.status == "active" and sub.metadata.reader_id == "42" and sub.customer == cus.id
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (T0, add_months(T0, 1))
    first = sub.latest_invoice
    assert (first.billing_reason, first.status, first.amount_paid) == ("subscription_create", "paid", 1000)
    assert first.parent.subscription_details.subscription == sub.id
    pay = first.payments.data[0]
    assert pay.status == "paid" and pay.payment.type == "payment_intent"
    pi = client.v1.payment_intents.retrieve(pay.payment.payment_intent, params={"expand": ["latest_charge.balance_transaction"]})
    txn = pi.latest_charge.balance_transaction
    assert (txn.amount, txn.fee, txn.net, txn.reporting_category, txn.source) == (1000, 59, 941, "charge", pi.latest_charge.id)

    # 13 monthly renewals, one month at a time (Stripe caps an advance at two intervals)
    for k in range(1, 14):
        mark = latest_event_id(client)
        _advance(client, clock, add_months(T0, k) + 3600)
        assert event_types(client, mark) == RENEWAL_OK, k
    invoices = list(client.v1.invoices.list(params={"subscription": sub.id, "limit": 100}).auto_paging_iter())
    assert len(invoices) == 14
    cycle = sorted((i for i in invoices if i.billing_reason == "subscription_cycle"), key=lambda i: i.created)
    assert len(cycle) == 13 and all(i.status == "paid" and i.amount_paid == 1000 for i in cycle)
    for k, inv in enumerate(cycle, start=1):
        period = inv.lines.data[0].period
        assert (period.start, period.end) == (add_months(T0, k), add_months(T0, k + 1))
        assert inv.period_end == add_months(T0, k)  # invoice.period_* is the *previous* period, not the service one
    upcoming = client.v1.events.list(params={"type": "invoice.upcoming", "limit": 100})
    assert len(upcoming.data) == 13 and "id" not in upcoming.data[0].data.object

    # a card that fails off-session; the next renewal fails, then a portal card update recovers it
    _portal(client, http, cus, "payment_method", card_number="4000000000000341")
    mark = latest_event_id(client)
    renewal = add_months(T0, 14)
    _advance(client, clock, renewal + 3600)
    assert event_types(client, mark) == ["customer.subscription.updated", "invoice.created", "invoice.finalized",
                                         "payment_intent.created", "charge.failed", "payment_intent.payment_failed",
                                         "invoice.payment_failed", "customer.subscription.updated"]
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    failed = sub.latest_invoice
    assert sub.status == "past_due"
    assert (failed.status, failed.attempt_count, failed.next_payment_attempt) == ("open", 1, renewal + 3 * DAY)
    mark = latest_event_id(client)
    _portal(client, http, cus, "payment_method", card_number="4242424242424242")
    assert event_types(client, mark) == ["payment_method.attached", "customer.updated", "customer.subscription.updated",
                                         "charge.succeeded", "payment_intent.succeeded", "invoice_payment.paid",
                                         "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]
    sub = client.v1.subscriptions.retrieve(sub.id)
    cus_now = client.v1.customers.retrieve(cus.id)
    assert sub.status == "active" and sub.default_payment_method == cus_now.invoice_settings.default_payment_method
    assert client.v1.invoices.retrieve(failed.id).status == "paid"
    _advance(client, clock, renewal + 4 * DAY)  # the scheduled retry is stale now: nothing happens
    assert client.v1.invoices.retrieve(failed.id).attempt_count == 2

    # cancel at period end from the portal: active until the period ends, then deleted
    _portal(client, http, cus, "cancel", subscription=sub.id)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.cancel_at_period_end is True and sub.status == "active"
    mark = latest_event_id(client)
    _advance(client, clock, add_months(T0, 15) + 60)
    assert event_types(client, mark) == ["customer.subscription.deleted"]
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert (sub.status, sub.ended_at) == ("canceled", add_months(T0, 15))
    assert len(client.v1.invoices.list(params={"subscription": sub.id, "limit": 100}).data) == 15


def test_partial_refund(client: stripe.StripeClient) -> None:
    price = monthly_price(client, 2000)
    cus = client.v1.customers.create(params={"email": "r@example.com"})
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": "pm_card_visa",
                                                 "expand": ["latest_invoice.payments.data.payment.payment_intent"]})
    charge_id = sub.latest_invoice.payments.data[0].payment.payment_intent.latest_charge
    mark = latest_event_id(client)
    refund = client.v1.refunds.create(params={"charge": charge_id, "amount": 500, "metadata": {"why": "goodwill"}})
    assert (refund.status, refund.amount, refund.metadata.why) == ("pending", 500, "goodwill")
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert event_types(client, mark) == ["refund.created", "charge.refunded", "refund.updated"]
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded, len(charge.refunds.data)) == (500, False, 1)
    txn = client.v1.balance_transactions.retrieve(refund.balance_transaction)
    assert (txn.amount, txn.type, txn.reporting_category, txn.source) == (-500, "refund", "refund", refund.id)
    with_rest = client.v1.refunds.create(params={"charge": charge_id})
    assert with_rest.amount == 1500 and client.v1.charges.retrieve(charge_id).refunded is True
    try:
        client.v1.refunds.create(params={"charge": charge_id, "amount": 1})
    except stripe.InvalidRequestError as err:
        assert err.code == "amount_too_large"
    else:
        raise AssertionError("over-refund accepted")


def test_refund_fails_for_refund_fail_card(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1200, "currency": "usd", "payment_method": "pm_card_refundFail",
                                                  "confirm": True})
    mark = latest_event_id(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "pending"
    refund = client.v1.refunds.retrieve(refund.id)
    assert refund.status == "failed" and refund.failure_reason == "expired_or_canceled_card"
    assert event_types(client, mark) == ["refund.created", "charge.refunded", "refund.failed", "refund.updated"]
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0
    back = client.v1.balance_transactions.retrieve(refund.failure_balance_transaction)
    assert (back.amount, back.reporting_category) == (1200, "refund_failure")


def test_donation_disputed_and_lost_then_payout(client: stripe.StripeClient, http: requests.Session) -> None:
    clock, cus = _clock_customer(client, "donor@example.com")
    prod = client.v1.products.create(params={"name": "Donation"})
    price = client.v1.prices.create(params={"product": prod.id, "currency": "usd",
                                            "custom_unit_amount": {"enabled": True, "minimum": 100}})
    cs = client.v1.checkout.sessions.create(params={
        "mode": "payment", "submit_type": "donate", "customer": cus.id, "success_url": OK_URL,
        "line_items": [{"price": price.id, "quantity": 1}], "metadata": {"campaign": "spring"}})
    page = http.get(cs.url).text
    assert "name='amount'" in page and "Donate" in page
    mark = latest_event_id(client)
    r = http.post(cs.url, data={"card_number": "4000000000000259", "amount": "25.00"}, allow_redirects=False)
    assert r.status_code == 303
    assert event_types(client, mark) == ["payment_method.attached", "payment_intent.created", "charge.succeeded",
                                         "payment_intent.succeeded", "checkout.session.completed",
                                         "charge.dispute.created", "charge.dispute.funds_withdrawn"]
    cs = client.v1.checkout.sessions.retrieve(cs.id, params={"expand": ["payment_intent.latest_charge"]})
    charge = cs.payment_intent.latest_charge
    assert (cs.amount_total, cs.payment_status, charge.amount, charge.disputed) == (2500, "paid", 2500, True)
    dispute = client.v1.disputes.list(params={"charge": charge.id}).data[0]
    assert dispute.status == "needs_response" and dispute.amount == 2500
    withdrawn = dispute.balance_transactions[0]
    assert (withdrawn.amount, withdrawn.fee, withdrawn.net, withdrawn.reporting_category) == (-2500, 1500, -4000, "dispute")
    mark = latest_event_id(client)
    dispute = client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "losing_evidence"}})
    assert dispute.status == "under_review"
    assert client.v1.disputes.retrieve(dispute.id).status == "lost"
    assert event_types(client, mark) == ["charge.dispute.updated", "charge.dispute.closed"]

    # a second, ordinary donation so the balance is positive despite the chargeback
    cs2 = client.v1.checkout.sessions.create(params={
        "mode": "payment", "submit_type": "donate", "customer": cus.id, "success_url": OK_URL,
        "line_items": [{"price": price.id, "quantity": 1}]})
    assert http.post(cs2.url, data={"card_number": "4242424242424242", "amount": "100"},
                     allow_redirects=False).status_code == 303

    bal = client.v1.balance.retrieve()
    assert (bal.available[0].amount, bal.pending[0].amount) == (-(2500 + 1500), (2500 - 103) + (10000 - 320))

    # payouts: charges become available two days later, the dispute debit at once; one payout sweeps them
    _advance(client, clock, T0 + 3 * DAY + 60)
    bal = client.v1.balance.retrieve()
    assert (bal.available[0].amount, bal.pending[0].amount) == (0, 0)
    payouts = client.v1.payouts.list(params={"limit": 10}).data
    assert len(payouts) == 1
    po = payouts[0]
    assert po.amount == (2500 - 103) + (10000 - 320) - (2500 + 1500)
    assert (po.status, po.reconciliation_status, po.arrival_date) == ("paid", "completed", T0 + 3 * DAY)
    txns = list(client.v1.balance_transactions.list(params={"payout": po.id, "limit": 100}).auto_paging_iter())
    assert sorted(t.reporting_category for t in txns) == ["charge", "charge", "dispute", "payout"]
    own = [t for t in txns if t.type == "payout"]
    assert len(own) == 1 and own[0].amount == -po.amount
    assert sum(t.net for t in txns if t.type != "payout") == po.amount
    assert event_types(client, None, noise=(), type="payout.*") == [
        "payout.created", "payout.paid", "payout.updated", "payout.reconciliation_completed"]
