"""Settled charges -> `payments` rows, the charge's journal group and a receipt notice.

invoice.paid (subscriptions): re-fetch the invoice, follow each paid invoice payment
to its PaymentIntent's charge and balance transaction; one Payment per charge with
gross/fee/net from the balance transaction, the service period from the invoice
LINES (invoice.period_* is the previous period), the stream from the local
subscription. One-time gifts: checkout.session.completed / async_payment_succeeded
in mode=payment once payment_status is paid. We handle invoice.paid, never also
invoice.payment_succeeded, so nothing is counted twice.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from membership.billing.customers import resolve_reader
from membership.billing.events import RetryLater, StripeEvent, handles
from membership.billing.gateway import stripe_client
from membership.billing.handlers.money_common import balance_transaction, list_all, lock, payment_for_charge, plain, ts
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
    """What we learned about one settled charge, before it becomes a row."""

    charge: dict[str, Any]
    txn: dict[str, Any]
    payment_intent_id: str | None


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
    client = stripe_client()
    invoice = plain(client.v1.invoices.retrieve(invoice_id))
    if invoice.get("status") != "paid":
        return []  # re-fetched: not (or no longer) paid, nothing settled to record
    lines = _lines(invoice)
    ctx = _invoice_context(invoice, lines, event)
    service = [ServiceLine(int(ln["amount"]), ts(ln["period"]["start"]), ts(ln["period"]["end"]))
               for ln in lines if ln.get("period") and ln["period"].get("end")]
    settled = [s for s in _invoice_charges(invoice_id) if s is not None]
    payments = [record(s, ctx, service) for s in settled]
    if ctx.subscription is not None and payments:
        first = min(p.paid_at for p in payments)
        if ctx.subscription.first_paid_at is None or first < ctx.subscription.first_paid_at:
            ctx.subscription.first_paid_at = first
    db.session.flush()
    return payments


def _lines(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    lines = invoice.get("lines") or {}
    if not lines.get("has_more"):
        return list(lines.get("data") or [])
    return list(list_all(stripe_client().v1.invoices.line_items.list(invoice["id"], params={"limit": 100})))


def _invoice_charges(invoice_id: str) -> list[Settled | None]:
    client = stripe_client()
    found: list[Settled | None] = []
    for ip in list_all(client.v1.invoice_payments.list(params={"invoice": invoice_id, "limit": 100})):
        pay = ip.get("payment") or {}
        if ip.get("status") != "paid":
            continue
        if pay.get("type") == "payment_intent" and pay.get("payment_intent"):
            found.append(settled_from_intent(str(pay["payment_intent"])))
        elif pay.get("type") == "charge" and pay.get("charge"):
            charge = plain(client.v1.charges.retrieve(str(pay["charge"]), params={"expand": ["balance_transaction"]}))
            found.append(_settled(charge, None))
    return found


def settled_from_intent(payment_intent_id: str) -> Settled | None:
    pi = plain(stripe_client().v1.payment_intents.retrieve(
        payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}))
    charge = pi.get("latest_charge")
    if not isinstance(charge, dict):
        return None
    return _settled(charge, payment_intent_id)


def _settled(charge: dict[str, Any], payment_intent_id: str | None) -> Settled | None:
    if charge.get("status") != "succeeded":
        return None
    txn = balance_transaction(charge.get("balance_transaction"))
    if txn is None:
        raise RetryLater(f"charge {charge['id']} has no balance transaction yet")
    return Settled(charge, txn, payment_intent_id or charge.get("payment_intent"))


def _invoice_context(invoice: dict[str, Any], lines: Sequence[dict[str, Any]], event: StripeEvent | None) -> Context:
    sub_id = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    subscription = _local_subscription(sub_id, event) if sub_id else None
    prices = _local_prices(lines)
    if subscription is not None:
        reader = db.session.get(Reader, subscription.reader_id)
        stream = subscription.stream
    else:
        reader = resolve_reader(invoice.get("customer"), invoice.get("metadata"))
        stream = _plan_stream(prices) or Stream.OTHER
    assert reader is not None
    benefit = sum(prices[p].benefit_value_minor * int(ln.get("quantity") or 1)
                  for ln in lines if (p := _price_id(ln)) in prices)
    return Context(reader=reader, stream=stream, subscription=subscription, invoice_id=invoice["id"],
                   billing_reason=invoice.get("billing_reason"), benefit_minor=benefit)


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


def _price_id(line: dict[str, Any]) -> str | None:
    details = (line.get("pricing") or {}).get("price_details") or {}
    price = details.get("price") or (line.get("price") or {})
    if isinstance(price, dict):
        return price.get("id")
    return str(price) if price else None


def _local_prices(lines: Sequence[dict[str, Any]]) -> dict[str, Price]:
    ids = [p for ln in lines if (p := _price_id(ln))]
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
    charge, txn = settled.charge, settled.txn
    lock(f"charge:{charge['id']}")
    payment = payment_for_charge(charge["id"])
    if payment is None:
        payment = Payment(
            reader_id=ctx.reader.id, subscription_id=ctx.subscription.id if ctx.subscription else None,
            donation_id=ctx.donation_id, stripe_charge_id=charge["id"],
            stripe_payment_intent_id=settled.payment_intent_id, stripe_invoice_id=ctx.invoice_id,
            balance_transaction_id=txn["id"], stream=ctx.stream, billing_reason=ctx.billing_reason,
            gross_minor=int(txn["amount"]), fee_minor=int(txn["fee"]), net_minor=int(txn["net"]),
            currency=str(txn["currency"]).upper(), benefit_value_minor=ctx.benefit_minor,
            service_period_start=min((s.start for s in service), default=None),
            service_period_end=max((s.end for s in service), default=None),
            paid_at=ts(charge["created"]),
        )
        db.session.add(payment)
        db.session.flush()
        attribute_late_source(charge["id"], payment.stream)
    post_charge(payment, service)
    if ctx.reader.email:
        record_notice("payment_receipt", charge["id"], ctx.reader.email, {"payment_id": payment.id},
                      reader_id=ctx.reader.id)
    return payment


@handles("checkout.session.completed", "checkout.session.async_payment_succeeded")
def on_checkout_paid(event: StripeEvent) -> None:
    """One-time gifts (and gift memberships bought once): money only, after re-fetching."""
    if event.object.get("mode") != "payment" or not event.object_id:
        return
    record_checkout(event.object_id)


def record_checkout(session_id: str) -> Payment | None:
    session = plain(stripe_client().v1.checkout.sessions.retrieve(session_id))
    if session.get("mode") != "payment" or session.get("payment_status") != "paid" or not session.get("payment_intent"):
        return None
    ctx, gift = _checkout_context(session)
    if ctx is None:
        log.info("paid checkout session is not a gift we offered", extra={"session": session_id})
        return None
    settled = settled_from_intent(str(session["payment_intent"]))
    if settled is None:
        raise RetryLater(f"payment for session {session_id} has not settled yet")
    service = gift_service_lines(gift, ts(settled.charge["created"])) if gift is not None else []
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


def _checkout_context(session: dict[str, Any]) -> tuple[Context | None, GiftMembership | None]:
    donation = db.session.scalar(select(Donation).where(Donation.stripe_checkout_session_id == session["id"]))
    if donation is not None:
        reader = db.session.get(Reader, donation.reader_id)
        assert reader is not None
        return Context(reader=reader, stream=Stream.ONE_TIME_DONATION, donation_id=donation.id), None
    gift = db.session.scalar(select(GiftMembership).where(GiftMembership.stripe_checkout_session_id == session["id"]))
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
