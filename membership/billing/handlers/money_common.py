"""Small pieces the money handlers share: fetching from Stripe as plain dicts, locks,
timestamps and turning a balance transaction into a `Movement`.

Handlers never trust an event's payload for money: they re-fetch the object (and its
balance transactions) from Stripe, so amounts, fees and statuses are the current ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from membership.billing.gateway import stripe_client
from membership.billing.models import Payment
from membership.extensions import db
from membership.ledger.postings import Movement


def ts(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


def plain(obj: Any) -> dict[str, Any]:
    """A StripeObject (or dict) as a plain recursive dict."""
    if isinstance(obj, dict):
        return obj
    return dict(obj.to_dict(recursive=True))


def lock(key: str) -> None:
    """Serialise writers of one Stripe object until this transaction ends (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})


def movement(txn: dict[str, Any]) -> Movement:
    return Movement(id=str(txn["id"]), amount_minor=int(txn["amount"]), fee_minor=int(txn["fee"]),
                    net_minor=int(txn["net"]), currency=str(txn["currency"]).upper(), created_at=ts(txn["created"]))


def balance_transaction(ref: Any) -> dict[str, Any] | None:
    """An expanded balance transaction as a dict, fetching it when only its id is known."""
    if not ref:
        return None
    if isinstance(ref, str):
        return plain(stripe_client().v1.balance_transactions.retrieve(ref))
    return plain(ref)


def payment_for_charge(charge_id: str | None) -> Payment | None:
    if not charge_id:
        return None
    return db.session.scalar(select(Payment).where(Payment.stripe_charge_id == charge_id))


def list_all(page: Any) -> Iterator[dict[str, Any]]:
    for item in page.auto_paging_iter():
        yield plain(item)
