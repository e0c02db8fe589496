"""Refunds and disputes: their own rows, reversing journal groups, schedules kept exact.

Driven through stripe_sim and the real webhook pipeline, except where a state the
simulator cannot produce (a refund that succeeded and later failed) is fed to the
sync service as Stripe-shaped dicts; that test says so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.billing.events import RetryLater, StripeEvent, dispatch
from membership.billing.gateway import stripe_client
from membership.billing.gateway.reversals import refund_of
from membership.billing.handlers import refunds as refund_handlers
from membership.billing.models import Dispute, Donation, Payment, Refund
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import Account, RevenueSchedule
from membership.ledger.recognition import last_day, recognize_through
from tests.billing.webhook_support import latest_event_id, make_reader, sim_customer
from tests.ledger.money_support import balances, catalogue_price, every_group_balances, feed, journal, lines_of

A = Account


def _member(client: FlaskClient, amount: int = 1000, pm: str = "pm_card_visa",
            stream: Stream = Stream.MEMBERSHIP) -> tuple[Any, Payment]:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(amount, stream=stream)
    mark = latest_event_id()
    stripe_client().v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price.id}], "default_payment_method": pm,
        "metadata": {"reader_id": str(reader.id)}})
    feed(client, mark)  # all of it is this test's; dispute events name no customer
    return customer, db.session.scalars(select(Payment).where(Payment.reader_id == reader.id)).one()


def test_partial_refund_clears_deferred_and_recognition_stays_exact(client: FlaskClient, stripe_sim: Any) -> None:
    customer, payment = _member(client, 1000)
    mark = latest_event_id()
    refund = stripe_client().v1.refunds.create(params={"charge": payment.stripe_charge_id, "amount": 400})
    events = feed(client, mark, {customer.id, payment.stripe_charge_id, refund.id})
    assert [e["type"] for e in events] == ["refund.created", "charge.refunded", "refund.updated"]

    row = db.session.scalars(select(Refund)).one()
    assert (row.payment_id, row.amount_minor, row.status, row.balance_transaction_id) == (
        payment.id, 400, "succeeded", refund.balance_transaction)
    (reversal,) = journal("refund")
    # nothing was recognised yet: the whole refund clears deferred revenue
    assert lines_of(reversal) == {("stripe_clearing", "USD"): -400, ("deferred_revenue", "USD"): 400}
    assert (payment.gross_minor, payment.net_minor) == (1000, 941)  # the payment row is never edited

    # the stale refund.created (status pending) processed again, late: the re-fetch keeps the newer state
    dispatch(StripeEvent.from_payload({**events[0], "id": "evt_late_copy"}))
    db.session.refresh(row)
    assert row.status == "succeeded" and len(journal("refund")) == 1

    schedule = db.session.scalars(select(RevenueSchedule)).one()
    recognize_through(last_day(schedule))
    totals = balances(Stream.MEMBERSHIP)
    assert totals[A.MEMBERSHIP_REVENUE] == -600 and totals[A.DEFERRED_REVENUE] == 0
    assert totals[A.STRIPE_CLEARING] == 941 - 400 and every_group_balances()


def test_refund_after_part_recognised_splits_between_refunds_and_deferred(client: FlaskClient,
                                                                          stripe_sim: Any) -> None:
    customer, payment = _member(client, 3100)
    schedule = db.session.scalars(select(RevenueSchedule)).one()
    from membership.ledger.recognition import span

    start, total = span(schedule)
    recognize_through(start + timedelta(days=9))  # 10 of `total` days recognised
    recognised = 3100 * 10 // total
    assert schedule.recognized_minor == recognised
    mark = latest_event_id()
    stripe_client().v1.refunds.create(params={"charge": payment.stripe_charge_id})  # full refund
    feed(client, mark, {customer.id, payment.stripe_charge_id})
    (reversal,) = journal("refund")
    assert lines_of(reversal) == {("stripe_clearing", "USD"): -3100, ("refunds", "USD"): recognised,
                                  ("deferred_revenue", "USD"): 3100 - recognised}
    recognize_through(last_day(schedule))
    totals = balances(Stream.MEMBERSHIP)
    assert totals[A.DEFERRED_REVENUE] == 0 and totals[A.MEMBERSHIP_REVENUE] == -recognised
    assert totals[A.MEMBERSHIP_REVENUE] + totals[A.REFUNDS] == 0  # net revenue of a full refund is nil


def test_refund_that_fails_moves_no_money(client: FlaskClient, stripe_sim: Any) -> None:
    customer, payment = _member(client, 1200, pm="pm_card_refundFail", stream=Stream.RECURRING_DONATION)
    mark = latest_event_id()
    stripe_client().v1.refunds.create(params={"charge": payment.stripe_charge_id})
    events = feed(client, mark, {customer.id, payment.stripe_charge_id})
    assert "refund.failed" in [e["type"] for e in events]
    row = db.session.scalars(select(Refund)).one()
    assert (row.status, row.failure_reason) == ("failed", "expired_or_canceled_card")
    assert journal("refund") == [] and journal("refund_failure") == []


def test_refund_that_fails_after_success_is_re_reversed(client: FlaskClient, stripe_sim: Any) -> None:
    """The simulator fails refunds only from pending, so the later states are Stripe-shaped
    dicts, read by the gateway's parser and handed to the same per-refund sync the events use."""
    _customer, payment = _member(client, 1500, stream=Stream.RECURRING_DONATION)
    txn = {"id": "txn_re_fake", "amount": -1500, "fee": 0, "net": -1500, "currency": "usd", "created": 1767225600}
    back = {"id": "txn_ref_fail", "amount": 1500, "fee": 0, "net": 1500, "currency": "usd", "created": 1767312000}
    refund = {"id": "re_fake_1", "amount": 1500, "currency": "usd", "status": "succeeded", "reason": None,
              "failure_reason": None, "balance_transaction": txn, "failure_balance_transaction": None}
    refund_handlers._sync_one(payment, refund_of(refund))
    refund_handlers._sync_one(payment, refund_of(refund))
    refund_handlers._sync_one(payment, refund_of({**refund, "status": "failed", "failure_reason": "lost_or_stolen_card",
                                                  "failure_balance_transaction": back}))
    (out,) = journal("refund")
    (again,) = journal("refund_failure")
    assert lines_of(out) == {("stripe_clearing", "USD"): -1500, ("refunds", "USD"): 1500}
    assert lines_of(again) == {("stripe_clearing", "USD"): 1500, ("refunds", "USD"): -1500}
    assert balances(Stream.RECURRING_DONATION)[A.REFUNDS] == 0


def _disputed_gift(client: FlaskClient, amount: str) -> tuple[Any, Payment, Any]:
    reader = make_reader()
    customer = sim_customer(reader)
    price = catalogue_price(None, interval="one_time", stream=Stream.ONE_TIME_DONATION)
    session = stripe_client().v1.checkout.sessions.create(params={
        "mode": "payment", "customer": customer.id, "success_url": "http://127.0.0.1:9/ok",
        "line_items": [{"price": price.id, "quantity": 1}]})
    db.session.add(Donation(reader_id=reader.id, stripe_checkout_session_id=session.id, amount_minor=2500,
                            currency="USD"))
    db.session.commit()
    mark = latest_event_id()
    with requests.Session() as http:
        assert http.post(session.url, data={"card_number": "4000000000000259", "amount": amount},
                         allow_redirects=False).status_code == 303
    return customer, mark, session


def test_dispute_lost_on_a_gift(client: FlaskClient, stripe_sim: Any) -> None:
    _customer, mark, _session = _disputed_gift(client, "25.00")
    feed(client, mark)  # everything since the mark is this test's (disputes name no customer)
    payment = db.session.scalars(select(Payment)).one()
    dispute = db.session.scalars(select(Dispute)).one()
    assert (dispute.payment_id, dispute.amount_minor, dispute.fee_minor, dispute.status) == (
        payment.id, 2500, 1500, "needs_response")
    assert dispute.funds_withdrawn_at is not None and dispute.closed_at is None
    mark = latest_event_id()
    stripe_client().v1.disputes.update(dispute.stripe_dispute_id,
                                       params={"evidence": {"uncategorized_text": "losing_evidence"}})
    feed(client, mark, {dispute.stripe_dispute_id})
    db.session.refresh(dispute)
    assert dispute.status == "lost" and dispute.closed_at is not None and dispute.funds_reinstated_at is None
    (withdrawal,) = journal("dispute")
    assert lines_of(withdrawal) == {("stripe_clearing", "USD"): -4000, ("chargebacks", "USD"): 2500,
                                    ("dispute_fees", "USD"): 1500}
    assert journal("dispute_reversal") == []
    assert balances(Stream.ONE_TIME_DONATION)[A.STRIPE_CLEARING] == (2500 - 103) - 4000


def test_dispute_won_on_a_membership_restores_the_schedule(client: FlaskClient, stripe_sim: Any) -> None:
    customer, payment = _member(client, 2000, pm="pm_card_createDispute")
    dispute = db.session.scalars(select(Dispute)).one()
    schedule = db.session.scalars(select(RevenueSchedule)).one()
    assert schedule.reversed_minor == 2000
    mark = latest_event_id()
    stripe_client().v1.disputes.update(dispute.stripe_dispute_id,
                                       params={"evidence": {"uncategorized_text": "winning_evidence"}})
    events = feed(client, mark, {dispute.stripe_dispute_id})
    assert [e["type"] for e in events][-2:] == ["charge.dispute.funds_reinstated", "charge.dispute.closed"]
    db.session.refresh(dispute)
    db.session.refresh(schedule)
    assert dispute.status == "won" and dispute.funds_reinstated_at is not None and dispute.fee_minor == 0
    assert schedule.reversed_minor == 0
    (back,) = journal("dispute_reversal")
    assert lines_of(back) == {("stripe_clearing", "USD"): 3500, ("deferred_revenue", "USD"): -2000,
                              ("dispute_fees", "USD"): -1500}
    totals = balances(Stream.MEMBERSHIP)
    assert totals[A.DEFERRED_REVENUE] == -2000 and A.CHARGEBACKS not in totals or totals[A.CHARGEBACKS] == 0
    assert every_group_balances()


def test_refund_event_before_its_payment_waits(db_session: Any) -> None:
    event = StripeEvent(id="evt_early", type="charge.refunded", created=1767225600, api_version=None,
                        object={"id": "ch_not_recorded_yet", "object": "charge"})
    with pytest.raises(RetryLater):
        dispatch(event)


def test_dispute_events_replayed_post_nothing_twice(client: FlaskClient, stripe_sim: Any) -> None:
    _customer, mark, _session = _disputed_gift(client, "30.00")
    events = feed(client, mark)
    withdrawn = next(e for e in events if e["type"] == "charge.dispute.funds_withdrawn")
    created = next(e for e in events if e["type"] == "charge.dispute.created")
    for payload in (withdrawn, created, withdrawn):
        dispatch(StripeEvent.from_payload({**payload, "id": f"evt_replay_{payload['id']}"}))
    assert len(journal("dispute")) == 1 and len(db.session.scalars(select(Dispute)).all()) == 1
