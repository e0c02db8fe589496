"""Settled charges -> `payments` rows, the charge's journal group and a receipt notice.

invoice.paid (subscriptions): one gateway call (`settlement.paid_invoice`) re-fetches
the invoice with its lines and, per paid invoice payment, the succeeded charge and its
balance transaction; the values are passed down from there, nothing is fetched again.
One Payment per charge with gross/fee/net from the balance transaction, the service
period from the invoice LINES (invoice.period_* is the previous period), the stream
from the local subscription. One-time gifts: checkout.session.completed / async_payment_succeeded
in mode=payment once payment_status is paid. We handle invoice.paid, never also
invoice.payment_succeeded, so nothing is counted twice.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from membership.billing import tributes
from membership.billing.customers import resolve_reader
from membership.billing.events import RetryLater, StripeEvent, handles
from membership.billing.gateway import settlement
from membership.billing.gateway.balance import BalanceTransaction
from membership.billing.gateway.checkout import fetch_checkout_session
from membership.billing.gateway.settlement import InvoiceLine, PaidInvoice, SettledCharge
from membership.billing.handlers.money_common import lock, payment_for_charge, ts
from membership.billing.handlers.payouts import attribute_late_source
from membership.billing.models import Donation, GiftMembership, Plan, Price, Subscription
from membership.billing.models.money import Payment
from membership.enums import Stream
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.postings import ServiceLine, post_charge
from membership.mail.notices import record_notice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settled:
    """One settled charge with its booked balance transaction, before it becomes a row."""

    charge_id: str
    created: int
    payment_intent_id: str | None
    txn: BalanceTransaction


def _booked(charge: SettledCharge) -> Settled:
    """The charge once Stripe booked its money; until then the event waits."""
    if charge.txn is None:
        raise RetryLater(f"charge {charge.charge_id} has no balance transaction yet")
    return Settled(charge.charge_id, charge.created, charge.payment_intent_id, charge.txn)


@dataclass
class Context:
    """Who paid and for what: shared by every charge of one invoice or session."""

    reader: Reader
    stream: Stream
    subscription: Subscription | None = None
    donation_id: int | None = None
    invoice_id: str | None = None
    billing_reason: str | None = None
    benefit_minor: int = 0


@handles("invoice.paid")
def on_invoice_paid(event: StripeEvent) -> None:
    if event.object_id:
        record_invoice(event.object_id, event)


def record_invoice(invoice_id: str, event: StripeEvent | None = None) -> list[Payment]:
    paid = settlement.paid_invoice(invoice_id)
    if paid is None:
        return []  # re-fetched: not (or no longer) paid, nothing settled to record
    ctx = _invoice_context(paid, event)
    service = [ServiceLine(ln.amount, ts(ln.period_start), ts(ln.period_end))
               for ln in paid.lines if ln.period_end]
    settled = [_booked(c) for c in paid.charges]
    payments = [record(s, ctx, service) for s in settled]
    if ctx.subscription is not None and payments:
        first = min(p.paid_at for p in payments)
        if ctx.subscription.first_paid_at is None or first < ctx.subscription.first_paid_at:
            ctx.subscription.first_paid_at = first
    db.session.flush()
    return payments


def _invoice_context(paid: PaidInvoice, event: StripeEvent | None) -> Context:
    invoice, lines = paid.invoice, paid.lines
    sub_id = invoice.subscription_id
    subscription = _local_subscription(sub_id, event) if sub_id else None
    prices = _local_prices(lines)
    if subscription is not None:
        reader = db.session.get(Reader, subscription.reader_id)
        stream = subscription.stream
    else:
        reader = resolve_reader(invoice.customer_id, dict(invoice.metadata))
        stream = _plan_stream(prices) or Stream.OTHER
    assert reader is not None
    benefit = sum(prices[ln.price_id].benefit_value_minor * ln.quantity
                  for ln in lines if ln.price_id is not None and ln.price_id in prices)
    return Context(reader=reader, stream=stream, subscription=subscription, invoice_id=invoice.id,
                   billing_reason=invoice.billing_reason, benefit_minor=benefit)


def _local_subscription(stripe_sub_id: str, event: StripeEvent | None) -> Subscription:
    """The local row, synced on demand when invoice.paid beats the subscription events."""
    local = db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == stripe_sub_id))
    if local is None:
        try:
            from membership.billing.subscriptions import sync_subscription
        except ImportError:  # pragma: no cover - the subscription sync ships with the webhook pipeline
            raise RetryLater(f"subscription {stripe_sub_id} not synced yet") from None
        local = sync_subscription(stripe_sub_id, event)
    if local is None:
        raise RetryLater(f"subscription {stripe_sub_id} not known yet")
    return local


def _local_prices(lines: Sequence[InvoiceLine]) -> dict[str, Price]:
    ids = [ln.price_id for ln in lines if ln.price_id]
    if not ids:
        return {}
    rows = db.session.scalars(select(Price).where(Price.stripe_price_id.in_(ids))).all()
    return {str(r.stripe_price_id): r for r in rows}


def _plan_stream(prices: dict[str, Price]) -> Stream | None:
    for price in prices.values():
        plan = db.session.get(Plan, price.plan_id)
        if plan is not None:
            return plan.stream
    return None


def record(settled: Settled, ctx: Context, service: Sequence[ServiceLine]) -> Payment:
    """Insert the charge's Payment once, post its journal group, record the receipt."""
    charge_id, txn = settled.charge_id, settled.txn
    lock(f"charge:{charge_id}")
    payment = payment_for_charge(charge_id)
    if payment is None:
        payment = Payment(
            reader_id=ctx.reader.id, subscription_id=ctx.subscription.id if ctx.subscription else None,
            donation_id=ctx.donation_id, stripe_charge_id=charge_id,
            stripe_payment_intent_id=settled.payment_intent_id, stripe_invoice_id=ctx.invoice_id,
            balance_transaction_id=txn.id, stream=ctx.stream, billing_reason=ctx.billing_reason,
            gross_minor=txn.amount, fee_minor=txn.fee, net_minor=txn.net,
            currency=txn.currency, benefit_value_minor=ctx.benefit_minor,
            service_period_start=min((s.start for s in service), default=None),
            service_period_end=max((s.end for s in service), default=None),
            paid_at=ts(settled.created),
        )
        db.session.add(payment)
        db.session.flush()
        attribute_late_source(charge_id, payment.stream)
    post_charge(payment, service)
    if ctx.reader.email:
        record_notice("payment_receipt", charge_id, ctx.reader.email, {"payment_id": payment.id},
                      reader_id=ctx.reader.id)
    return payment


@handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def on_checkout_paid(event: StripeEvent) -> None:
    """One-time gifts (and gift memberships bought once): money only, after re-fetching."""
    if event.object.get("mode") != "payment" or not event.object_id:
        return
    record_checkout(event.object_id)


def record_checkout(session_id: str) -> Payment | None:
    session = fetch_checkout_session(session_id)
    if session.mode != "payment" or session.payment_status != "paid" or not session.payment_intent_id:
        return None
    ctx, gift = _checkout_context(session_id)
    if ctx is None:
        log.info("paid checkout session is not a gift we offered", extra={"session": session_id})
        return None
    charge = settlement.settled_intent(session.payment_intent_id)
    if charge is None:
        raise RetryLater(f"payment for session {session_id} has not settled yet")
    settled = _booked(charge)
    service = gift_service_lines(gift, ts(settled.created)) if gift is not None else []
    payment = record(settled, ctx, service)
    if ctx.donation_id is not None:
        _mark_donation_paid(ctx.donation_id, payment)
    return payment


def _mark_donation_paid(donation_id: int, payment: Payment) -> None:
    """The gift's own row says it was paid once its money is recorded (pending/failed ->
    paid: a settled charge outranks an earlier async failure)."""
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.status == "paid":
        return
    donation.status = "paid"
    donation.paid_at = payment.paid_at
    donation.stripe_payment_intent_id = donation.stripe_payment_intent_id or payment.stripe_payment_intent_id
    tributes.release(donation)  # the note to the person the donor named, held until now


def _checkout_context(session_id: str) -> tuple[Context | None, GiftMembership | None]:
    donation = db.session.scalar(select(Donation).where(Donation.stripe_checkout_session_id == session_id))
    if donation is not None:
        reader = db.session.get(Reader, donation.reader_id)
        assert reader is not None
        return Context(reader=reader, stream=Stream.ONE_TIME_DONATION, donation_id=donation.id), None
    gift = db.session.scalar(select(GiftMembership).where(GiftMembership.stripe_checkout_session_id == session_id))
    if gift is not None:
        reader = db.session.get(Reader, gift.purchaser_reader_id)
        assert reader is not None
        return Context(reader=reader, stream=Stream.MEMBERSHIP), gift
    return None, None


def gift_service_lines(gift: GiftMembership, paid_at: datetime) -> list[ServiceLine]:
    """A gift membership is membership revenue, deferred over its months from the day it
    was paid for (the recipient may redeem later; we do not wait for that to recognise)."""
    return [ServiceLine(gift.amount_minor, paid_at, add_months(paid_at, gift.months))]


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
