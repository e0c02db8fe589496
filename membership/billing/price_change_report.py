"""Each announced price change and how far it got, for the Catalogue page.

Read from rows that exist anyway, so nothing new is written to keep it: the notices (who
was told, and whether the mail went), the sweep's audit entries (`price_change.on_sale`
once it applied, `price_change.held` per reader kept on the old price, with the reason)
and the local subscriptions (moved = now on the new price, as the webhook syncs them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from membership.billing.models import Plan, Price, Subscription
from membership.billing.price_change_records import HELD, KIND, Change, applied_keys, change_key, told
from membership.billing.price_changes import find_successor
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
    """The newest `limit` announced changes (by date) with their counts. The notices are read
    once for every change (grouped by change and status), not once per change."""
    key = change_key()
    by_change: dict[Change, dict[str, int]] = {}
    for k, status, n in db.session.execute(select(key, Notice.status, func.count(Notice.id))
                                           .where(Notice.kind == KIND).group_by(key, Notice.status)):
        if (change := Change.from_key(str(k))) is not None:
            by_change.setdefault(change, {s.value: 0 for s in NoticeStatus})[NoticeStatus(status).value] += int(n)
    listed = sorted(by_change, reverse=True)[:limit]
    prices = {p.id: p for p in db.session.scalars(select(Price).where(Price.id.in_({c.price_id for c in listed})))}
    done = applied_keys(prices)
    return [_state(c, prices[c.price_id], c.key in done, by_change[c]) for c in listed if c.price_id in prices]


def _state(change: Change, old: Price, applied: bool, notices: dict[str, int]) -> ChangeState:
    new = find_successor(old, change.new_amount_minor)
    state = ChangeState(change, db.session.get_one(Plan, old.plan_id), old, new, applied, notices)
    if new is not None:
        state.moved = db.session.scalar(select(func.count(Subscription.id)).join(Notice, told(change))
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
