"""What the rows already say about announced price changes: which exist, which are still
pending, which went on sale. No table of its own: a change is the suffix its notices share
(`SUB:PRICE_ID:EFFECTIVE_UNIX:NEW_AMOUNT`) and its application is the sweep's audit entry.

Kept apart from the sweep (`price_change_apply.py`) and the announcement
(`price_changes.py`) so both, and the notice scheduler's checks, can read it without
importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from membership.billing.models import Price, Subscription
from membership.extensions import db
from membership.mail.models import Notice
from membership.staff.models import AuditLog

KIND = "price_change"
HELD, ON_SALE = "price_change.held", "price_change.on_sale"
LOOKBACK = timedelta(days=30)  # a change further past its date is no longer swept: it needs a person


@dataclass(frozen=True, order=True)
class Change:
    effective_at: datetime
    price_id: int
    new_amount_minor: int

    @property
    def key(self) -> str:
        """The notice dedupe key's suffix for this change (after the subscription id)."""
        return f"{self.price_id}:{int(self.effective_at.timestamp())}:{self.new_amount_minor}"

    @classmethod
    def from_key(cls, key: str) -> Change | None:
        parts = key.split(":")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        return cls(datetime.fromtimestamp(int(parts[1]), tz=UTC), int(parts[0]), int(parts[2]))


def change_key() -> ColumnElement[Any]:
    """A notice's change key: its dedupe key after the Stripe subscription id (which has no colon)."""
    position = func.strpos if db.session.get_bind().dialect.name == "postgresql" else func.instr  # SQLite: instr
    return func.substr(Notice.dedupe_key, position(Notice.dedupe_key, ":") + 1)


def notices_of(change: Change) -> tuple[ColumnElement[bool], ...]:
    """Every notice of one change (a scan of the price-change notices: the key is a suffix)."""
    return Notice.kind == KIND, Notice.dedupe_key.like(f"%:{change.key}")


def told(change: Change) -> ColumnElement[bool]:
    """Joins a subscription to its own notice of this change (the unique dedupe key)."""
    return and_(Notice.kind == KIND, Notice.dedupe_key == Subscription.stripe_subscription_id + f":{change.key}")


def announced(price_ids: Iterable[int] | None = None, *where: ColumnElement[bool]) -> list[Change]:
    """Every change announced (for these prices, of these notices), newest date first, read
    off the notices: one row per change."""
    suffix = change_key()
    stmt = select(suffix).where(Notice.kind == KIND, *where).distinct()
    ids = None if price_ids is None else {int(p) for p in price_ids}
    found = {c for (k,) in db.session.execute(stmt) if (c := Change.from_key(str(k)))
             and (ids is None or c.price_id in ids)}
    return sorted(found, reverse=True)


def same_sale(price: Price) -> list[Price]:
    """The prices sold side by side with `price`: same plan, currency and interval."""
    return list(db.session.scalars(select(Price).where(
        Price.plan_id == price.plan_id, Price.currency == price.currency, Price.interval == price.interval)
        .order_by(Price.id)))


def on_sale_entries(price_ids: Iterable[int]) -> list[AuditLog]:
    """The sweep's `price_change.on_sale` entries for changes of these (old) prices, oldest first."""
    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.action == ON_SALE, AuditLog.target_type == "price",
        AuditLog.target_id.in_([str(p) for p in price_ids])).order_by(AuditLog.id)))


def applied_keys(price_ids: Iterable[int]) -> set[str]:
    return {str(e.details.get("change")) for e in on_sale_entries(price_ids)}


def announced_at(change: Change) -> datetime | None:
    """When the change was announced: its first notice row."""
    return db.session.scalar(select(func.min(Notice.created_at)).where(*notices_of(change)))


def pending(price: Price, now: datetime) -> list[Change]:
    """Changes of any price sold beside `price` that are announced and not applied yet
    (and not so overdue that the sweep gave them up)."""
    ids = [p.id for p in same_sale(price)]
    done = applied_keys(ids)
    return [c for c in announced(ids) if c.key not in done and c.effective_at > now - LOOKBACK]
