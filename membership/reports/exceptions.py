"""Exceptions (REVENUE.md report 8): what finance should look at now. Failed renewals
(subscriptions in dunning), open disputes, payouts that did not reconcile, payout lines
no recorded payment explains, and webhook events that ran out of attempts. Each list
is capped; its `count` is the full number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from membership.billing.models import Dispute, Payment, Payout, PayoutLine, Subscription, WebhookEvent, WebhookStatus
from membership.enums import SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader

NAME, VERSION = "exceptions", 1
CAP = 500
CLOSED_DISPUTES = ("won", "lost", "warning_closed", "prevented")


@dataclass(frozen=True)
class Section:
    count: int
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class Exceptions:
    failed_payments: Section
    open_disputes: Section
    unreconciled_payouts: Section
    unattributed_payout_lines: Section
    dead_webhook_events: Section


def exceptions() -> Exceptions:
    return Exceptions(_failed_payments(), _open_disputes(), _unreconciled_payouts(), _unattributed_lines(),
                      _dead_events())


def _section(query: Any, row: Any) -> Section:
    """The full count and the first CAP rows (the query is already ordered)."""
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return Section(int(count), [row(*r) for r in db.session.execute(query.limit(CAP))])


def _failed_payments() -> Section:
    query = (select(Subscription, Reader.email).join(Reader, Reader.id == Subscription.reader_id)
             .where(Subscription.status.in_([SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID]))
             .order_by(Subscription.past_due_since, Subscription.id))
    return _section(query, lambda s, email: {
        "subscription_id": s.id, "stripe_subscription_id": s.stripe_subscription_id, "reader_id": s.reader_id,
        "email": email, "status": s.status.value, "since": _iso(s.past_due_since), "stream": s.stream.value,
        "amount_minor": s.unit_amount_minor * s.quantity, "currency": s.currency})


def _open_disputes() -> Section:
    query = (select(Dispute, Payment.stripe_charge_id, Payment.reader_id).join(Payment, Payment.id == Dispute.payment_id)
             .where(Dispute.status.not_in(CLOSED_DISPUTES)).order_by(Dispute.created_at, Dispute.id))
    return _section(query, lambda d, charge, reader_id: {
        "stripe_dispute_id": d.stripe_dispute_id, "stripe_charge_id": charge, "reader_id": reader_id,
        "status": d.status, "reason": d.reason, "amount_minor": d.amount_minor, "currency": d.currency,
        "funds_withdrawn_at": _iso(d.funds_withdrawn_at)})


def _unreconciled_payouts() -> Section:
    query = (select(Payout).where(Payout.status == "paid", Payout.reconciled_at.is_(None))
             .order_by(Payout.arrival_date, Payout.id))
    return _section(query, lambda p: {
        "stripe_payout_id": p.stripe_payout_id, "arrival_date": _iso(p.arrival_date), "amount_minor": p.amount_minor,
        "lines_net_minor": p.lines_net_minor, "currency": p.currency, "mismatch_note": p.mismatch_note})


def _unattributed_lines() -> Section:
    query = (select(PayoutLine, Payout.stripe_payout_id).join(Payout, Payout.id == PayoutLine.payout_id)
             .where(PayoutLine.stream.is_(None)).order_by(PayoutLine.id))
    return _section(query, lambda ln, payout: {
        "balance_transaction_id": ln.balance_transaction_id, "stripe_payout_id": payout, "type": ln.type,
        "source_id": ln.source_id, "net_minor": ln.net_minor, "currency": ln.currency})


def _dead_events() -> Section:
    query = (select(WebhookEvent).where(WebhookEvent.status == WebhookStatus.DEAD)
             .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc()))
    return _section(query, lambda e: {
        "id": e.id, "stripe_event_id": e.stripe_event_id, "type": e.type, "attempts": e.attempts,
        "last_error": e.last_error, "received_at": _iso(e.received_at)})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
