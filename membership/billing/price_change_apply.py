"""Apply an announced price change on its day: subscribers who were told move, the rest stay.

An announcement (`price_changes.announce`, the console, or `flask mail price-change`)
records one `price_change` notice per auto-renewing subscriber; the notice rows are the
record of the change (context and dedupe key `SUB:PRICE_ID:EFFECTIVE_UNIX:NEW_AMOUNT`),
so no other table is needed. From the effective date on, each run:

- finds the changes whose date has come (within `LOOKBACK`: a change a month overdue
  needs a person, not a sweeper, and the window bounds what a run reads);
- puts the new price on sale and every other price of the same plan, currency and
  interval off sale, once per change (audited `price_change.on_sale`; a catch-up change
  for readers held on a price already replaced moves readers only, see `_put_on_sale`). "On sale" is `Price.active`: what the join page, checkout,
  gifts and plan switches offer. Nothing changes at Stripe for it: a Stripe Price
  keeps renewing whatever its flag, and ours are looked up through the local rows;
- moves each subscription still renewing on the old price whose notice for THIS change
  was sent inside its legal window (at least `legal_min` before the date) and did not
  bounce afterwards: one `gateway.subscriptions.move_to_price` per subscription, no
  proration (the period paid stays paid, the next renewal charges the new amount),
  with an idempotency key of (subscription, new Stripe price), and Stripe's current
  state checked first, so a retry or a second run never makes a second change;
- holds every other subscriber on the old price (no notice, or one that failed, was
  suppressed, is still pending, went out late, or bounced): charging more without
  the legal notice is not allowed. Each is logged and audited once
  (`price_change.held`, on the reader's audit trail) and listed in every run's summary.

Cancelled, ended, paused or re-priced subscriptions are simply not on the old price
and renewing any more, so they are skipped (Stripe's own state is checked again before
a move). Local rows are never written here: the `customer.subscription.updated`
webhook syncs them and records the MRR expansion. A run moves at most `BUDGET`
subscriptions at `RPS` Stripe requests a second, soonest renewal first; the rest is
the next run's (beat runs it hourly). Flushes only: the task or command commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select

from membership.billing.gateway import GatewayError, RateLimited, Unavailable, idempotency_key
from membership.billing.gateway.client import paced
from membership.billing.gateway.subscriptions import Move, move_to_price
from membership.billing.models import Price, Subscription
from membership.billing.notices.policy import POLICIES
from membership.billing.notices.scheduling import auto_renewing
from membership.billing.price_change_records import (
    HELD,
    KIND,
    LOOKBACK,
    ON_SALE,
    Change,
    announced,
    announced_at,
    applied_keys,
    on_sale_entries,
    same_sale,
    told,
)
from membership.billing.price_changes import find_successor, successor
from membership.billing.processor import ProcessorError
from membership.db import utcnow
from membership.errors import Conflict
from membership.extensions import db
from membership.mail.models import BounceEvent, Notice, NoticeStatus
from membership.money import format_money
from membership.staff.models import AuditLog

log = logging.getLogger(__name__)
BUDGET = 2000  # subscriptions a run looks at Stripe for
RPS = 20.0  # Stripe requests a second (a move is one read and at most one write)
CHUNK = 500
SHOWN = 50  # held subscriptions listed per change in a summary (all are audited)
ACTOR = "billing"
LOCK = "billing.apply_price_changes"  # one run at a time (mail.locks), the task's and the command's
HARD_BOUNCES = ("hard", "hard_bounce")  # the SMTP-time kind (mail/sending.py), the reported one (bounces.py)


@dataclass(frozen=True)
class Held:
    subscription: str  # Stripe id
    reader_id: int
    reason: str


@dataclass
class ChangeRun:
    change: Change
    old: Price
    new: Price | None  # None only in a dry run, before the new price exists
    on_sale_now: bool = False  # this run put it on sale (a dry run: would)
    moved: list[str] = field(default_factory=list)  # a dry run: would move
    already: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # Stripe id -> why (Move value)
    errors: dict[str, str] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)  # the first SHOWN
    held_count: int = 0


@dataclass
class Summary:
    now: datetime
    dry_run: bool
    changes: list[ChangeRun] = field(default_factory=list)
    stopped: str | None = None  # why the run ended before looking at everyone

    def counts(self) -> dict[str, int]:
        runs = self.changes
        return {"changes": len(runs), "on_sale": sum(r.on_sale_now for r in runs),
                "moved": sum(len(r.moved) for r in runs), "already": sum(len(r.already) for r in runs),
                "skipped": sum(len(r.skipped) for r in runs), "errors": sum(len(r.errors) for r in runs),
                "held": sum(r.held_count for r in runs)}


def due_changes(now: datetime) -> list[Change]:
    """Announced changes whose date has come, oldest first (read off the notice rows)."""
    window = (Notice.window_closes_at <= now, Notice.window_closes_at > now - LOOKBACK - POLICIES[KIND].legal_max)
    return sorted(c for c in announced(None, *window) if now - LOOKBACK < c.effective_at <= now)


def apply_due(now: datetime | None = None, *, dry_run: bool = False, budget: int = BUDGET,
              rps: float = RPS) -> Summary:
    """Every due change: on sale, moves, holds. A dry run writes nothing, here or at Stripe."""
    summary = Summary(now or utcnow(), dry_run)
    left = budget
    with paced(rps):
        for change in due_changes(summary.now):
            old = db.session.get(Price, change.price_id)
            if old is None:
                continue
            try:
                new = find_successor(old, change.new_amount_minor) if dry_run else successor(
                    old, change.new_amount_minor)
            except (ProcessorError, Conflict) as exc:  # the new price could not be made at Stripe
                summary.stopped = f"Stripe: {exc}"
                break
            run = ChangeRun(change, old, new)
            summary.changes.append(run)
            _put_on_sale(run, dry_run)
            _hold(run, record=not dry_run)
            left, summary.stopped = _move(run, summary.now, left, dry_run)
            if summary.stopped:
                break
    db.session.flush()
    return summary


def _delivered(change: Change) -> ColumnElement[bool]:
    """Sent inside the legal window and not bounced since."""
    bounced = exists().where(BounceEvent.email == func.lower(Notice.email), BounceEvent.kind.in_(HARD_BOUNCES),
                             BounceEvent.reported_at >= Notice.sent_at)
    return and_(Notice.status == NoticeStatus.SENT,
                Notice.sent_at <= change.effective_at - POLICIES[KIND].legal_min, ~bounced)


def _put_on_sale(run: ChangeRun, dry_run: bool) -> None:
    """Once per change: the new price is what joiners get from now on, and the only one.

    Every other price of the same plan, currency and interval goes off sale with it, so an
    earlier successor never stays on sale beside a later one (/join would offer both, the
    lower id first). A catch-up change (announced for readers held on a price that had
    already gone off sale before the announcement) moves its readers only: putting its
    price back on sale would undo the change that replaced it.
    """
    if run.change.key in applied_keys([run.old.id]):
        return
    catch_up = _catch_up(run)
    run.on_sale_now = not catch_up
    if dry_run or run.new is None:
        return
    others = [] if catch_up else [p for p in same_sale(run.old) if p.id != run.new.id and p.active]
    if not catch_up:
        run.new.active, run.old.active = True, False
        for price in others:
            price.active = False
    db.session.add(AuditLog(actor=ACTOR, action=ON_SALE, target_type="price", target_id=str(run.old.id),
                            details={"change": run.change.key, "on_sale": None if catch_up else run.new.id,
                                     "off_sale": run.old.id, "also_off_sale": [p.id for p in others
                                                                               if p.id != run.old.id],
                                     "catch_up": catch_up, "effective_at": run.change.effective_at.isoformat()}))


def _catch_up(run: ChangeRun) -> bool:
    """The old price was off sale already when this change was announced: no audited
    switch took it off sale after the announcement (a switch before it, or by hand)."""
    if run.old.active:
        return False
    since = announced_at(run.change)
    entries = on_sale_entries(p.id for p in same_sale(run.old))
    return not any(e.details.get("on_sale") is not None and (since is None or e.at >= since)
                   and run.old.id in (e.details.get("off_sale"), *_ids(e.details.get("also_off_sale")))
                   for e in entries)


def _ids(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _hold(run: ChangeRun, record: bool) -> None:
    """Subscribers still on the old price without a notice that counts: listed, audited once."""
    stmt = (auto_renewing(Subscription.price_id == run.change.price_id).add_columns(Notice)
            .outerjoin(Notice, told(run.change)).where(or_(Notice.id.is_(None), not_(_delivered(run.change)))))
    last = 0
    while rows := db.session.execute(stmt.where(Subscription.id > last).order_by(Subscription.id).limit(CHUNK)).all():
        last = rows[-1][0].id
        held = [Held(sub.stripe_subscription_id, sub.reader_id, _reason(notice, run.change)) for sub, _, notice in rows]
        run.held_count += len(held)
        run.held.extend(held[:SHOWN - len(run.held)])
        if record:
            _audit_held(run.change, held)


def _reason(notice: Notice | None, change: Change) -> str:
    if notice is None:
        return "no notice of this change (subscribed after it was announced?)"
    if notice.status is not NoticeStatus.SENT:
        return f"notice {notice.status.value}" + (f": {notice.last_error}" if notice.last_error else "")
    if notice.sent_at is not None and notice.sent_at > change.effective_at - POLICIES[KIND].legal_min:
        return f"notice sent late ({notice.sent_at:%Y-%m-%d %H:%M} UTC, inside the legal minimum)"
    return "the address bounced after the notice was sent"


def _audit_held(change: Change, held: list[Held]) -> None:
    seen = {str(d.get("notice_key")) for d in db.session.scalars(select(AuditLog.details).where(
        AuditLog.action == HELD, AuditLog.target_type == "reader",
        AuditLog.target_id.in_({str(h.reader_id) for h in held})))}
    for h in held:
        key = f"{h.subscription}:{change.key}"
        if key in seen:
            continue
        details: dict[str, Any] = {"notice_key": key, "subscription": h.subscription, "price_id": change.price_id,
                                   "new_amount_minor": change.new_amount_minor,
                                   "effective_at": change.effective_at.isoformat(), "reason": h.reason}
        log.warning("price change held: the subscription stays on the old price", extra={
            "alert": HELD, **{k: v for k, v in details.items() if k != "notice_key"}})
        db.session.add(AuditLog(actor=ACTOR, action=HELD, target_type="reader", target_id=str(h.reader_id),
                                details=details))


def _move(run: ChangeRun, now: datetime, left: int, dry_run: bool) -> tuple[int, str | None]:
    """Move the told subscribers, soonest renewal first; returns (budget left, why stopped)."""
    stmt = (auto_renewing(Subscription.price_id == run.change.price_id).join(Notice, told(run.change))
            .where(_delivered(run.change)).order_by(Subscription.current_period_end, Subscription.id)
            .limit(left + 1))
    subs = [sub for sub, _ in db.session.execute(stmt)]
    over = len(subs) > left
    for sub in subs[:left]:
        left -= 1
        sid = sub.stripe_subscription_id
        if dry_run:
            run.moved.append(sid)
            continue
        assert run.new is not None and run.new.stripe_price_id
        try:
            outcome = move_to_price(
                sid, str(sub.stripe_price_id), run.new.stripe_price_id, metadata={"price_change": run.change.key},
                idempotency_key=idempotency_key("price_change", sid, run.new.stripe_price_id))
        except (RateLimited, Unavailable) as exc:
            log.warning("price change run stopped: Stripe unavailable", extra={"error": str(exc)})
            return left, f"Stripe unavailable ({exc}); the rest next run"
        except GatewayError as exc:
            log.error("price change not applied", extra={"subscription": sid, "error": str(exc)})
            run.errors[sid] = str(exc)
            continue
        if outcome is Move.MOVED:
            run.moved.append(sid)
            log.info("price change applied", extra={"subscription": sid, "change": run.change.key})
        elif outcome is Move.ALREADY:
            run.already.append(sid)
        else:
            run.skipped[sid] = outcome.value
    return left, "this run's budget is spent; the rest next run" if over else None


def describe(summary: Summary) -> list[str]:
    """What the run did (or, dry, would do), line by line, for the command."""
    would = "would " if summary.dry_run else ""
    out = []
    for run in summary.changes:
        c, old, new = run.change, run.old, run.new
        amounts = f"{format_money(old.amount_minor or 0, old.currency)} -> {format_money(c.new_amount_minor, old.currency)}"
        out.append(f"price {old.id} ({old.interval.value}, {amounts}) from {c.effective_at:%Y-%m-%d %H:%M} UTC, "
                   + (f"new price {new.id}" if new else "new price to be created"))
        if run.on_sale_now:
            out.append(f"  {would}put price {new.id if new else 'new'} on sale, price {old.id} off sale")
        out.append(f"  {would}move {len(run.moved)}; already moved {len(run.already)}; "
                   f"skipped {len(run.skipped)}; errors {len(run.errors)}; held {run.held_count}")
        out += [f"  moved {s}" if not summary.dry_run else f"  would move {s}" for s in run.moved]
        out += [f"  skipped {s}: {why}" for s, why in run.skipped.items()]
        out += [f"  error {s}: {why}" for s, why in run.errors.items()]
        out += [f"  held {h.subscription} (reader {h.reader_id}): {h.reason}" for h in run.held]
        if run.held_count > len(run.held):
            out.append(f"  ... and {run.held_count - len(run.held)} more held (audit log: {HELD})")
    if not summary.changes:
        out.append("no price change is due")
    if summary.stopped:
        out.append(f"stopped: {summary.stopped}")
    return out
