"""Each announced price change and how far it got, for the Catalogue page.

Read from rows that exist anyway, so nothing new is written to keep it: the notices (who
was told, and whether the mail went), the sweep's audit entries (`price_change.on_sale`
once it applied, `price_change.held` per reader kept on the old price, with the reason)
and the local subscriptions (moved = now on the new price, as the webhook syncs them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from membership.billing.models import Plan, Price, Subscription
from membership.billing.price_change_records import (
    HELD,
    KIND,
    Change,
    announced,
    on_sale_entries,
    same_sale,
)
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice, NoticeStatus
from membership.staff.models import AuditLog

SHOWN = 50  # held readers listed per change (all are in the audit log)
CHANGES = 50  # changes listed, newest date first


@dataclass(frozen=True)
class HeldReader:
    reader_id: int
    email: str
    subscription: str  # Stripe id
    reason: str


@dataclass
class ChangeState:
    change: Change
    plan: Plan
    old: Price
    new: Price | None
    applied: bool
    notices: dict[str, int] = field(default_factory=dict)  # by status; every status present
    moved: int = 0
    held_count: int = 0
    held: list[HeldReader] = field(default_factory=list)

    @property
    def state(self) -> str:
        if not self.applied:
            return "announced"
        return "partly held" if self.held_count else "applied"


def changes(limit: int = CHANGES) -> list[ChangeState]:
    """The newest `limit` announced changes (by date) with their counts."""
    out = []
    for change in announced()[:limit]:
        old = db.session.get(Price, change.price_id)
        if old is not None:
            out.append(_state(change, old))
    return out


def _state(change: Change, old: Price) -> ChangeState:
    new = next((p for p in same_sale(old) if p.amount_minor == change.new_amount_minor), None)
    applied = any(e.details.get("change") == change.key for e in on_sale_entries([old.id]))
    told = (Notice.kind == KIND, Notice.dedupe_key.like(f"%:{change.key}"))
    by_status = dict(db.session.execute(select(Notice.status, func.count(Notice.id)).where(*told)
                                        .group_by(Notice.status)).all())
    state = ChangeState(change, db.session.get_one(Plan, old.plan_id), old, new, applied,
                        {s.value: int(by_status.get(s, 0)) for s in NoticeStatus})
    if new is not None:
        state.moved = db.session.scalar(select(func.count(Subscription.id)).join(Notice, and_(
            *told, Notice.dedupe_key == Subscription.stripe_subscription_id + f":{change.key}"))
            .where(Subscription.price_id == new.id)) or 0
    held = (AuditLog.action == HELD, AuditLog.target_type == "reader",
            AuditLog.details["notice_key"].as_string().like(f"%:{change.key}"))
    state.held_count = db.session.scalar(select(func.count(AuditLog.id)).where(*held)) or 0
    entries = list(db.session.scalars(select(AuditLog).where(*held).order_by(AuditLog.id).limit(SHOWN)))
    ids = [int(e.target_id) for e in entries if e.target_id.isdigit()]
    emails = dict(db.session.execute(select(Reader.id, Reader.email).where(Reader.id.in_(ids))).all())
    state.held = [HeldReader(int(e.target_id), emails.get(int(e.target_id), f"reader {e.target_id}"),
                             str(e.details.get("subscription", "")), str(e.details.get("reason", "")))
                  for e in entries if e.target_id.isdigit()]
    return state
