"""A year and more of demo history, so every finance chart in the console moves.

The readers `seed()` made without a membership get a past: members joining, upgrading,
downgrading, churning (voluntary and failed cards) and coming back; recurring and
one-time gifts; refunds; a card in dunning and an open dispute (the worklist) — in USD
and EUR. Every money event goes through the ledger's own posting functions
(ledger/postings.py: charges deferred over their service period, refunds and
disputes split into recognised and deferred parts) and recognition runs through
yesterday, so the reports read books that balance, as bench/report_data.py's
synthetic outlet does at scale with SQL. The demo's older one-payment members get
their charge posted too. Local only: ids are prefixed `demo_`, Stripe never sees them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from membership.billing.models import (
    Dispute,
    Payment,
    Plan,
    Price,
    Refund,
    Subscription,
    SubscriptionEvent,
)
from membership.enums import Interval, MrrMovement, Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.journal import local_date
from membership.ledger.models import Account, JournalTransaction
from membership.ledger.postings import Movement, ServiceLine, post_charge, post_reversal
from membership.ledger.recognition import recognize_through

MONTH, YEAR = timedelta(days=30), timedelta(days=365)
HISTORY = timedelta(days=450)  # fifteen months: a year of movement and its comparison
CHURN_PER_MONTH = 0.05
REFUND_RATE = 0.03


def fee(gross: int) -> int:
    return gross * 29 // 1000 + 30


@dataclass
class _Plan:
    code: str
    price: Price
    stream: Stream
    amount: int

    @property
    def mrr(self) -> int:
        return self.amount // 12 if self.price.interval == Interval.YEAR else self.amount


class History:
    """Writes one reader's past; `n` numbers every Stripe-like id it makes."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now, self.n = rng, now, 0
        rows = db.session.execute(select(Price, Plan.code, Plan.stream).join(Plan, Plan.id == Price.plan_id))
        self.by_key = {(code, p.currency, p.interval): (p, Stream(stream)) for p, code, stream in rows}

    def ident(self, kind: str) -> str:
        self.n += 1
        return f"demo_h_{kind}_{self.n}"

    def plan(self, code: str, currency: str, interval: Interval, amount: int | None = None) -> _Plan:
        price, stream = self.by_key[(code, currency, interval)]
        return _Plan(code, price, stream, amount or price.amount_minor or price.min_amount_minor)

    def reader(self, reader: Reader) -> None:
        r = self.rng.random()
        currency = "EUR" if self.rng.random() < 0.3 else "USD"
        start = self.now - HISTORY + timedelta(days=self.rng.randint(0, 440), hours=self.rng.randint(0, 23))
        if r < 0.55:
            interval = Interval.YEAR if self.rng.random() < 0.2 else Interval.MONTH
            code = "sustainer" if self.rng.random() < 0.3 else "member"
            self.membership(reader, self.plan(code, currency, interval), start)
        elif r < 0.70:
            amount = self.rng.choice([500, 1000, 1500, 2500])
            self.membership(reader, self.plan("recurring-gift", currency, Interval.MONTH, amount), start)
        elif r < 0.90:
            for k in range(self.rng.randint(1, 3)):
                at = start + timedelta(days=120 * k + self.rng.randint(0, 60))
                if at < self.now:
                    gift = self.plan("one-time-gift", currency, Interval.ONE_TIME, self.rng.choice([1000, 2500, 5000]))
                    self.pay(reader, None, gift, at, None)

    def membership(self, reader: Reader, plan: _Plan, start: datetime, kind: MrrMovement = MrrMovement.NEW) -> None:
        """Paid periods until a churn or today; maybe one plan change; maybe a comeback."""
        step = YEAR if plan.price.interval == Interval.YEAR else MONTH
        sub = self.subscription(reader, plan, start)
        self.move(sub, kind, plan.mrr, start)
        at, change_done = start, False
        while True:
            self.pay(reader, sub, plan, at, at + step)
            end = at + step
            if end >= self.now:
                self.keep(sub, plan, at, end)
                return
            if self.rng.random() < (0.25 if step == YEAR else CHURN_PER_MONTH):
                self.churn(sub, plan, end)
                gap = timedelta(days=self.rng.randint(35, 100))
                if step == MONTH and self.rng.random() < 0.3 and end + gap < self.now - MONTH:
                    self.membership(reader, plan, end + gap, MrrMovement.REACTIVATION)
                return
            if not change_done and plan.stream == Stream.MEMBERSHIP and step == MONTH and self.rng.random() < 0.08:
                plan, change_done = self.change(sub, plan, end), True
            at = end

    def subscription(self, reader: Reader, plan: _Plan, start: datetime) -> Subscription:
        sub = Subscription(reader_id=reader.id, stripe_subscription_id=self.ident("sub"), price_id=plan.price.id,
                           stream=plan.stream, status=SubscriptionStatus.ACTIVE, unit_amount_minor=plan.amount,
                           currency=plan.price.currency, interval=plan.price.interval, current_period_start=start,
                           current_period_end=start, mrr_minor=plan.mrr, first_paid_at=start, stripe_created_at=start)
        db.session.add(sub)
        db.session.flush()
        return sub

    def move(self, sub: Subscription, kind: MrrMovement, delta: int, at: datetime) -> None:
        after = sub.mrr_minor if kind != MrrMovement.NEW and kind != MrrMovement.REACTIVATION else delta
        db.session.add(SubscriptionEvent(subscription_id=sub.id, reader_id=sub.reader_id, kind=kind,
                                         stream=sub.stream, mrr_delta_minor=delta, mrr_after_minor=after,
                                         currency=sub.currency, occurred_at=at,
                                         dedupe_key=f"{sub.stripe_subscription_id}:{kind.value}:{at.isoformat()}"))

    def change(self, sub: Subscription, plan: _Plan, at: datetime) -> _Plan:
        """Member <-> sustaining member at a renewal: expansion or contraction."""
        code = "member" if plan.code == "sustainer" else "sustainer"
        new = self.plan(code, plan.price.currency, Interval.MONTH)
        sub.price_id, sub.unit_amount_minor, sub.mrr_minor = new.price.id, new.amount, new.mrr
        kind = MrrMovement.EXPANSION if new.mrr > plan.mrr else MrrMovement.CONTRACTION
        self.move(sub, kind, new.mrr - plan.mrr, at)
        return new

    def churn(self, sub: Subscription, plan: _Plan, at: datetime) -> None:
        delinquent = self.rng.random() < 0.3
        sub.mrr_minor = 0
        self.move(sub, MrrMovement.CHURN_DELINQUENT if delinquent else MrrMovement.CHURN_VOLUNTARY, -plan.mrr, at)
        sub.status, sub.canceled_at, sub.ended_at = SubscriptionStatus.CANCELED, at, at
        sub.cancellation_reason = "payment_failed" if delinquent else "cancellation_requested"
        sub.current_period_end = at

    def keep(self, sub: Subscription, plan: _Plan, period_start: datetime, period_end: datetime) -> None:
        sub.current_period_start, sub.current_period_end = period_start, period_end
        if plan.price.interval == Interval.MONTH and self.rng.random() < 0.03:
            sub.status, sub.past_due_since = SubscriptionStatus.PAST_DUE, period_start + timedelta(days=1)

    def pay(self, reader: Reader, sub: Subscription | None, plan: _Plan, at: datetime, until: datetime | None) -> None:
        gross = plan.amount
        payment = Payment(reader_id=reader.id, subscription_id=sub.id if sub else None,
                          stripe_charge_id=self.ident("ch"), balance_transaction_id=self.ident("txn"),
                          stream=plan.stream, billing_reason="subscription_cycle" if sub else None,
                          gross_minor=gross, fee_minor=fee(gross), net_minor=gross - fee(gross),
                          currency=plan.price.currency, benefit_value_minor=plan.price.benefit_value_minor,
                          paid_at=at, service_period_start=at if sub else None, service_period_end=until)
        db.session.add(payment)
        db.session.flush()
        post_charge(payment, [ServiceLine(gross, at, until)] if until else [])
        if at < self.now - timedelta(days=10) and self.rng.random() < REFUND_RATE:
            self.refund(payment, at + timedelta(days=self.rng.randint(1, 5)))

    def refund(self, payment: Payment, at: datetime) -> None:
        refund = Refund(payment_id=payment.id, stripe_refund_id=self.ident("re"),
                        balance_transaction_id=self.ident("txn"), amount_minor=payment.gross_minor,
                        currency=payment.currency, status="succeeded", reason="requested_by_customer", created_at=at)
        db.session.add(refund)
        db.session.flush()
        money = Movement(refund.balance_transaction_id or "", -payment.gross_minor, 0, -payment.gross_minor,
                         payment.currency, at)
        post_reversal(payment, money, key=f"refund:{refund.stripe_refund_id}", kind="refund",
                      contra=Account.REFUNDS, fee_account=Account.PROCESSOR_FEES)

    def dispute(self, payment: Payment) -> None:
        """One open chargeback (funds withdrawn, awaiting a response): the worklist shows it."""
        at = payment.paid_at + timedelta(days=20)
        row = Dispute(payment_id=payment.id, stripe_dispute_id=self.ident("dp"), amount_minor=payment.gross_minor,
                      fee_minor=1500, currency=payment.currency, status="needs_response", reason="fraudulent",
                      funds_withdrawn_at=at, created_at=at)
        db.session.add(row)
        db.session.flush()
        money = Movement(self.ident("txn"), -payment.gross_minor, 1500, -payment.gross_minor - 1500,
                         payment.currency, at)
        post_reversal(payment, money, key=f"dispute:{money.id}", kind="dispute", contra=Account.CHARGEBACKS,
                      fee_account=Account.DISPUTE_FEES)


def add_history(rng: random.Random, now: datetime) -> None:
    """Give the demo's readers without a subscription a past, post the older demo
    payments' charges, open one dispute, and recognise revenue through yesterday."""
    history = History(rng, now)
    _post_unposted_payments()
    members = set(db.session.scalars(select(Subscription.reader_id)))
    for reader in db.session.scalars(select(Reader).where(Reader.email.like("%@demo.example")).order_by(Reader.id)):
        if reader.id not in members:
            history.reader(reader)
    db.session.flush()
    candidate = db.session.scalar(
        select(Payment).where(Payment.stream == Stream.ONE_TIME_DONATION, Payment.stripe_charge_id.like("demo_h_%"),
                              Payment.paid_at < now - timedelta(days=40), Payment.paid_at > now - timedelta(days=80))
        .order_by(Payment.id).limit(1))
    if candidate is not None:
        history.dispute(candidate)
    recognize_through(local_date(now) - timedelta(days=1))
    db.session.flush()


def _post_unposted_payments() -> None:
    """The seed's one-payment members (demo/__init__.py) have no journal yet."""
    posted = select(JournalTransaction.payment_id).where(JournalTransaction.payment_id.is_not(None))
    for payment in db.session.scalars(select(Payment).where(Payment.id.not_in(posted)).order_by(Payment.id)):
        start, end = payment.service_period_start, payment.service_period_end
        post_charge(payment, [ServiceLine(payment.gross_minor, start, end)] if start and end else [])
