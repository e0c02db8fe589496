"""Fixtures' helpers for the adoption tests: an app on a fresh simulator, emptying the
database, and a snapshot of local state keyed by Stripe ids (so two databases compare)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from membership.billing.models import (
    Dispute,
    Payment,
    Payout,
    PayoutLine,
    Plan,
    Price,
    Refund,
    Subscription,
    SubscriptionEvent,
)
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.models import JournalTransaction, LedgerEntry, RevenueSchedule
from membership.mail.models import Notice

BOOKKEEPING = {"stripe_adoption_runs", "stripe_adoption_checkpoints", "alembic_version"}


def truncate() -> None:
    db.session.remove()
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def row_counts() -> dict[str, int]:
    db.session.rollback()
    return {t.name: int(db.session.execute(select(func.count()).select_from(t)).scalar_one())
            for t in db.metadata.sorted_tables if t.name not in BOOKKEEPING}


def snapshot() -> dict[str, Any]:
    """Everything adoption writes, by Stripe id, without local ids or processing times."""
    db.session.rollback()
    s = db.session
    email = {r.id: r.email for r in s.scalars(select(Reader))}
    subs = {x.id: x.stripe_subscription_id for x in s.scalars(select(Subscription))}
    pays = {p.id: p.stripe_charge_id for p in s.scalars(select(Payment))}
    return {
        "readers": sorted((r.email, r.stripe_customer_id) for r in s.scalars(select(Reader))),
        "plans": sorted((p.stripe_product_id, p.stream.value, p.kind.value) for p in s.scalars(select(Plan))),
        "prices": sorted((p.stripe_price_id, p.currency, p.amount_minor) for p in s.scalars(select(Price))),
        "subscriptions": sorted(
            (x.stripe_subscription_id, email[x.reader_id], x.status.value, x.cancel_at_period_end, x.currency,
             x.mrr_minor, x.stream.value, x.current_period_start, x.current_period_end, x.past_due_since)
            for x in s.scalars(select(Subscription))),
        "movements": sorted((subs[m.subscription_id], m.kind.value, m.mrr_delta_minor, m.currency, m.occurred_at)
                            for m in s.scalars(select(SubscriptionEvent))),
        "payments": sorted((p.stripe_charge_id, p.gross_minor, p.fee_minor, p.net_minor, p.currency, p.stream.value,
                            p.balance_transaction_id, p.paid_at) for p in s.scalars(select(Payment))),
        "refunds": sorted((pays[r.payment_id], r.stripe_refund_id, r.amount_minor, r.status)
                          for r in s.scalars(select(Refund))),
        "disputes": sorted((pays[d.payment_id], d.stripe_dispute_id, d.amount_minor, d.status, d.fee_minor)
                           for d in s.scalars(select(Dispute))),
        "payouts": sorted((p.stripe_payout_id, p.amount_minor, p.status, p.lines_net_minor)
                          for p in s.scalars(select(Payout))),
        "payout_lines": int(s.scalar(select(func.count()).select_from(PayoutLine)) or 0),
        "journal": sorted((j.key, j.kind, j.occurred_at) for j in s.scalars(select(JournalTransaction))),
        "ledger": sorted(s.execute(select(LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
                                   .group_by(LedgerEntry.account, LedgerEntry.currency)).all()),
        "schedules": int(s.scalar(select(func.count()).select_from(RevenueSchedule)) or 0),
        "notices": sorted((n.kind, n.dedupe_key, n.status.value) for n in s.scalars(select(Notice))),
    }
