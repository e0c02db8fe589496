"""Settled charges become payments rows with Stripe's gross/fee/net, and journal groups.

Everything goes through stripe_sim over HTTP and the real webhook pipeline (signed
POST -> inbox -> processing -> dispatch); nothing is mocked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.billing.events import StripeEvent, dispatch
from membership.billing.gateway import stripe_client
from membership.billing.models import Donation, Payment, Subscription
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import RevenueSchedule
from membership.mail.models import Notice
from tests.billing.webhook_support import latest_event_id, make_reader, sim_customer
from tests.ledger.money_support import balances, catalogue_price, every_group_balances, feed, journal, lines_of


def _subscribe(price: Any, customer: Any, reader_id: int) -> Any:
    return stripe_client().v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price.id}], "metadata": {"reader_id": str(reader_id)},
        "expand": ["latest_invoice"]})


def test_membership_invoice_paid_records_payment_deferred_revenue_and_receipt(client: FlaskClient,
                                                                             stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(1000, benefit=250)
    mark = latest_event_id()
    sub = _subscribe(price, customer, reader.id)
    events = feed(client, mark, {customer.id})

    payment = db.session.scalars(select(Payment).where(Payment.stripe_invoice_id == sub.latest_invoice.id)).one()
    charge = stripe_client().v1.charges.retrieve(payment.stripe_charge_id, params={"expand": ["balance_transaction"]})
    txn = charge.balance_transaction
    assert (payment.gross_minor, payment.fee_minor, payment.net_minor) == (txn.amount, txn.fee, txn.net) == (1000, 59, 941)
    assert payment.balance_transaction_id == txn.id and payment.currency == "USD"
    assert payment.stream is Stream.MEMBERSHIP and payment.billing_reason == "subscription_create"
    assert payment.benefit_value_minor == 250 and payment.reader_id == reader.id
    period = sub.latest_invoice.lines.data[0].period
    assert payment.service_period_start == datetime.fromtimestamp(period.start, UTC)
    assert payment.service_period_end == datetime.fromtimestamp(period.end, UTC)
    local_sub = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert payment.subscription_id == local_sub.id and local_sub.first_paid_at == payment.paid_at

    (charge_txn,) = journal("charge")
    assert lines_of(charge_txn) == {("stripe_clearing", "USD"): 941, ("processor_fees", "USD"): 59,
                                    ("deferred_revenue", "USD"): -1000}
    schedule = db.session.scalars(select(RevenueSchedule).where(RevenueSchedule.payment_id == payment.id)).one()
    assert (schedule.amount_minor, schedule.service_start, schedule.recognized_minor) == (
        1000, payment.service_period_start, 0)
    notice = db.session.scalars(select(Notice).where(Notice.kind == "payment_receipt")).one()
    assert notice.dedupe_key == charge.id and f'"payment_id": {payment.id}' in notice.context

    # the same invoice.paid again (a redelivery under a new id, or a replay): nothing new
    paid = next(e for e in events if e["type"] == "invoice.paid")
    dispatch(StripeEvent.from_payload({**paid, "id": "evt_replayed"}))
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert len(journal("charge")) == 1 and every_group_balances()


def test_recurring_donation_is_recognised_when_received(client: FlaskClient, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(2500, stream=Stream.RECURRING_DONATION)
    mark = latest_event_id()
    _subscribe(price, customer, reader.id)
    feed(client, mark, {customer.id})
    payment = db.session.scalars(select(Payment)).one()
    assert payment.stream is Stream.RECURRING_DONATION and payment.gross_minor == 2500
    assert balances(Stream.RECURRING_DONATION) == {
        "stripe_clearing": 2500 - 103, "processor_fees": 103, "donation_revenue": -2500}
    assert db.session.scalar(select(func.count()).select_from(RevenueSchedule)) == 0


def test_one_time_gift_via_checkout_links_the_donation(client: FlaskClient, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(None, interval="one_time", stream=Stream.ONE_TIME_DONATION)
    session = stripe_client().v1.checkout.sessions.create(params={
        "mode": "payment", "submit_type": "donate", "customer": customer.id,
        "success_url": "http://127.0.0.1:9/ok", "line_items": [{"price": price.id, "quantity": 1}],
        "metadata": {"reader_id": str(reader.id)}})
    donation = Donation(reader_id=reader.id, stripe_checkout_session_id=session.id, amount_minor=4000, currency="USD")
    db.session.add(donation)
    db.session.commit()
    mark = latest_event_id()
    with requests.Session() as http:
        paid = http.post(session.url, data={"card_number": "4242424242424242", "amount": "40.00"},
                         allow_redirects=False)
    assert paid.status_code == 303
    feed(client, mark, {customer.id, session.id})
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.stream, payment.donation_id, payment.gross_minor, payment.fee_minor) == (
        Stream.ONE_TIME_DONATION, donation.id, 4000, 146)
    assert payment.subscription_id is None and payment.service_period_start is None
    db.session.refresh(donation)
    assert (donation.status, donation.paid_at, donation.stripe_payment_intent_id) == (
        "paid", payment.paid_at, payment.stripe_payment_intent_id)
    assert balances(Stream.ONE_TIME_DONATION) == {
        "stripe_clearing": 3854, "processor_fees": 146, "donation_revenue": -4000}


def test_a_euro_membership_is_booked_in_euros(client: FlaskClient, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(900, currency="eur")
    mark = latest_event_id()
    _subscribe(price, customer, reader.id)
    feed(client, mark, {customer.id})
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.currency, payment.gross_minor, payment.fee_minor) == ("EUR", 900, 56)
    assert balances(Stream.MEMBERSHIP, currency="EUR") == {
        "stripe_clearing": 844, "processor_fees": 56, "deferred_revenue": -900}
    assert balances(Stream.MEMBERSHIP, currency="USD") == {} and every_group_balances()
