"""Small pieces the money handlers share: locks, timestamps, a payment by charge, and
turning a balance transaction into the ledger's `Movement`.

Handlers never trust an event's payload for money: they re-fetch the object (and its
balance transactions) through the gateway, so amounts, fees and statuses are current.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from membership.billing.gateway.balance import BalanceTransaction
from membership.billing.models import Payment
from membership.extensions import db
from membership.ledger.postings import Movement


def ts(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def lock(key: str) -> None:
    """Serialise writers of one Stripe object until this transaction ends (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})


def movement(txn: BalanceTransaction) -> Movement:
    return Movement(id=txn.id, amount_minor=txn.amount, fee_minor=txn.fee, net_minor=txn.net, currency=txn.currency,
                    created_at=ts(txn.created))


def payment_for_charge(charge_id: str | None) -> Payment | None:
    if not charge_id:
        return None
    return db.session.scalar(select(Payment).where(Payment.stripe_charge_id == charge_id))
