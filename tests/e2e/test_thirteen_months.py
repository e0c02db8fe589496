"""Thirteen months of one membership, end to end, through every real part.

stripe_sim runs a test clock month by month and delivers signed webhooks to the app
served by a real HTTP server thread; the inbox enqueues each event to a real Celery
worker process (Redis broker, PostgreSQL, committed transactions), which re-fetches
from the sim and writes subscriptions, MRR movements, payments, refunds, disputes,
payouts and the journal. Along the way: a renewal that fails and recovers after the
card is changed, a plan upgrade with prorations, a partial refund, a dispute that is
lost, and the daily payouts. Then the books are checked against the simulator's
balance transactions and against numbers computed by hand below.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from membership.billing.gateway import stripe_client
from membership.billing.models import Dispute, Payment, Payout, Refund, Subscription, SubscriptionEvent, WebhookEvent
from membership.enums import MrrMovement, Stream
from membership.extensions import db
from membership.ledger.journal import local_date
from membership.ledger.models import Account
from membership.ledger.recognition import recognize_through
from membership.ledger.services import deferred_by_schedules, trial_balance, unbalanced_transactions
from membership.mail.models import Notice
from tests.billing.webhook_support import make_reader, sim_customer
from tests.ledger.money_support import catalogue_price
from tests.support.live import webhook_target
from tests.support.worker import wait_until

DAY = 86400
T0 = 1767225600  # 2026-01-01T00:00:00Z
A = Account


def add_months(ts: int, months: int) -> int:
    d = datetime.fromtimestamp(ts, tz=UTC)
    m = d.month - 1 + months
    y, mo = d.year + m // 12, m % 12 + 1
    return int(d.replace(year=y, month=mo, day=min(d.day, calendar.monthrange(y, mo)[1])).timestamp())


@pytest.fixture
def live_endpoint(app: Flask, committed_db: None, stripe_sim: Any) -> Iterator[str]:
    """The app on a real HTTP server, registered as the sim's webhook endpoint."""
    with webhook_target(app, stripe_sim) as (_, endpoint):
        yield endpoint


def _statuses() -> dict[str, int]:
    db.session.rollback()  # see the worker's commits
    rows = db.session.execute(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status))
    return {status.value: int(n) for status, n in rows}


def _settled(stripe_sim: Any) -> bool:
    """Every delivery made and every stored event processed (or given up on)."""
    if not stripe_sim.wait_for_deliveries(30):
        return False
    return set(_statuses()) <= {"processed", "dead"}


class Story:
    def __init__(self, stripe_sim: Any) -> None:
        self.sim = stripe_sim
        self.sdk = stripe_client()
        self.clock = self.sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "13 months"})

    def advance(self, to: int) -> None:
        res = self.sdk.v1.test_helpers.test_clocks.advance(self.clock.id, params={"frozen_time": to})
        assert res.frozen_time == to
        assert wait_until(lambda: _settled(self.sim), timeout=120), _statuses()

    def card(self, sub_id: str, pm: str) -> None:
        self.sdk.v1.subscriptions.update(sub_id, params={"default_payment_method": pm})


@pytest.mark.slow
def test_thirteen_months_of_renewals_refund_dispute_and_payouts(
        app: Flask, live_endpoint: str, stripe_sim: Any, start_worker: Callable[..., Any]) -> None:
    start_worker(queues="webhooks", concurrency=1)  # one at a time: Stripe's delivery order
    story = Story(stripe_sim)
    sdk = story.sdk
    reader = make_reader()
    customer = sim_customer(reader, clock=story.clock.id)
    member = catalogue_price(1000)
    sustainer = catalogue_price(1500)

    sub = sdk.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": member.id}],
                                              "metadata": {"reader_id": str(reader.id)}})
    assert wait_until(lambda: _settled(stripe_sim), timeout=60), _statuses()
    for month in range(1, 14):
        if month == 4:  # this renewal fails off-session; the reader changes card; the retry recovers
            story.card(sub.id, "pm_card_chargeCustomerFail")
        if month == 9:  # this renewal's charge is disputed
            story.card(sub.id, "pm_card_createDispute")
        story.advance(add_months(T0, month) + 3600)
        if month == 2:
            paid = db.session.scalars(select(Payment).order_by(Payment.paid_at.desc())).first()
            assert paid is not None
            sdk.v1.refunds.create(params={"charge": paid.stripe_charge_id, "amount": 300})
        if month == 4:
            assert sdk.v1.subscriptions.retrieve(sub.id).status == "past_due"
            story.card(sub.id, "pm_card_visa")
            story.advance(add_months(T0, 4) + 3 * DAY + 3600)
            assert sdk.v1.subscriptions.retrieve(sub.id).status == "active"
        if month == 6:  # upgrade ten days in: prorations land on the next invoice
            story.advance(add_months(T0, 6) + 10 * DAY)
            item = sdk.v1.subscriptions.retrieve(sub.id)["items"].data[0]
            sdk.v1.subscriptions.update(sub.id, params={"items": [{"id": item.id, "price": sustainer.id}]})
            upgraded_at = add_months(T0, 6) + 10 * DAY
        if month == 9:
            story.card(sub.id, "pm_card_visa")
            disputed = sdk.v1.disputes.list(params={"limit": 1}).data[0]
            sdk.v1.disputes.close(disputed.id)
    story.advance(add_months(T0, 13) + 3600 + 60)
    assert wait_until(lambda: _settled(stripe_sim), timeout=60), _statuses()
    assert _statuses() == {"processed": _statuses()["processed"]}, "no event failed or died"

    final_day = local_date(datetime.fromtimestamp(add_months(T0, 13) + 3600, UTC))
    recognize_through(final_day)
    db.session.commit()

    _check_payments_match_stripe(sdk, customer.id)
    _check_refund_and_dispute(sdk, disputed.id)
    _check_books(final_day)
    _check_payouts()
    _check_mrr_history(sub.id, upgraded_at)


def _check_payments_match_stripe(sdk: Any, customer_id: str) -> None:
    charges = [c for c in sdk.v1.charges.list(params={"customer": customer_id, "limit": 100}).auto_paging_iter()
               if c.status == "succeeded"]
    assert len(charges) == 14  # the first invoice and 13 renewals; the failed attempt is no payment
    payments = {p.stripe_charge_id: p for p in db.session.scalars(select(Payment))}
    assert set(payments) == {c.id for c in charges}
    for charge in charges:
        txn = sdk.v1.balance_transactions.retrieve(charge.balance_transaction)
        p = payments[charge.id]
        assert (p.gross_minor, p.fee_minor, p.net_minor, p.currency, p.balance_transaction_id) == (
            txn.amount, txn.fee, txn.net, txn.currency.upper(), txn.id)
        assert p.stream is Stream.MEMBERSHIP
    receipts = db.session.scalars(select(Notice.dedupe_key).where(Notice.kind == "payment_receipt")).all()
    assert sorted(receipts) == sorted(payments)  # one receipt per settled charge
    gross = sorted(p.gross_minor for p in payments.values())
    # 6 x $10, the upgraded month: $15 + prorations (credit 21/31 of $10, charge 21/31 of $15), 6 more x $15
    proration = -round(1000 * 21 / 31) + round(1500 * 21 / 31)
    assert gross == sorted([1000] * 7 + [1500 + proration] + [1500] * 6)


def _check_refund_and_dispute(sdk: Any, dispute_id: str) -> None:
    refund = db.session.scalars(select(Refund)).one()
    theirs = sdk.v1.refunds.retrieve(refund.stripe_refund_id)
    assert (refund.amount_minor, refund.status, refund.balance_transaction_id) == (
        300, "succeeded", theirs.balance_transaction)
    dispute = db.session.scalars(select(Dispute)).one()
    stripe_dispute = sdk.v1.disputes.retrieve(dispute_id)
    withdrawn = stripe_dispute.balance_transactions[0]
    assert (dispute.stripe_dispute_id, dispute.status, dispute.amount_minor, dispute.fee_minor) == (
        dispute_id, "lost", 1500, withdrawn.fee)
    assert dispute.closed_at is not None and dispute.funds_reinstated_at is None


def _check_books(final_day: date) -> None:
    assert unbalanced_transactions() == []
    tb = {account: amount for (account, _cur), amount in trial_balance().items()}
    assert sum(tb.values()) == 0
    billed = int(db.session.scalar(select(func.sum(Payment.gross_minor))) or 0)
    reversed_ = 300 + 1500
    recognised = -tb[A.MEMBERSHIP_REVENUE] - tb.get(A.REFUNDS, 0) - tb.get(A.CHARGEBACKS, 0)
    deferred = -tb[A.DEFERRED_REVENUE]
    assert recognised + deferred == billed - reversed_
    assert deferred_by_schedules() == {"USD": deferred}
    # by hand: the last period is 2027-02-01 -> 03-01 UTC = Jan 31 -> Feb 28 in Los Angeles,
    # 28 local days; through Jan 31 one day of $15 is recognised: 1500 * 1 // 28 = 53
    assert final_day == date(2027, 1, 31) and deferred == 1500 - 53
    fees = int(db.session.scalar(select(func.sum(Payment.fee_minor))) or 0)
    assert tb[A.PROCESSOR_FEES] == fees and tb[A.DISPUTE_FEES] == 1500


def _check_payouts() -> None:
    payouts = list(db.session.scalars(select(Payout).where(Payout.status == "paid")))
    # about one a month (funds become available two days after each charge), fewer where the
    # chargeback left the balance negative, the newest maybe still in transit
    assert len(payouts) >= 10
    assert all(p.reconciled_at is not None and p.mismatch_note is None and p.lines_net_minor == p.amount_minor
               for p in payouts)
    tb = {account: amount for (account, _cur), amount in trial_balance().items()}
    assert tb[A.BANK] == sum(p.amount_minor for p in payouts)
    net_in = int(db.session.scalar(select(func.sum(Payment.net_minor))) or 0) - 300 - (1500 + 1500)
    assert tb[A.STRIPE_CLEARING] == net_in - tb[A.BANK]


def _check_mrr_history(stripe_sub_id: str, upgraded_at: int) -> None:
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == stripe_sub_id)).one()
    moves = list(db.session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.subscription_id == local.id)
                                    .order_by(SubscriptionEvent.occurred_at)))
    assert [(m.kind, m.mrr_delta_minor) for m in moves] == [(MrrMovement.NEW, 1000), (MrrMovement.EXPANSION, 500)]
    # MRR at each month's end, by hand: $10 until the upgrade on 2026-07-11, then $15; the
    # failed renewal (past_due for 3 days, inside the dunning window) and the dispute change nothing
    table = {month: (1000 if add_months(T0, month) <= upgraded_at else 1500) for month in range(1, 14)}
    for month, expected in table.items():
        at = datetime.fromtimestamp(add_months(T0, month), UTC)
        assert sum(m.mrr_delta_minor for m in moves if m.occurred_at < at) == expected, month
    assert local.first_paid_at == datetime.fromtimestamp(T0, UTC)
