"""The adoption walk: every list, in order, one object per transaction, resumable.

For each resource (gateway/account.py's order) the walk asks Stripe for the objects
after its checkpoint's `starting_after`, hands each one to its step, and commits the
step's effects together with the new checkpoint. A crash loses at most the object in
hand; the next run continues the unfinished run from its checkpoints. Every step is an
upsert keyed by Stripe ids, so a second full run changes nothing.

An object that cannot be mapped (a customer without an email, a payment whose balance
transaction is not there yet) is rolled back alone and listed in the summary; Stripe
outages and bugs stop the run (resume it later), rate limits are retried by the SDK
and avoided by pacing every request (`--rps`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from membership.billing import inbox, mrr, processing
from membership.billing.adoption import catalog, customers, history
from membership.billing.adoption.holding import RETRY_LATER_PREFIX
from membership.billing.adoption.models import AdoptionCheckpoint, AdoptionRun
from membership.billing.adoption.summary import Summary
from membership.billing.events import RetryLater
from membership.billing.gateway import account
from membership.billing.gateway.account import RESOURCES, Resource
from membership.billing.gateway.client import paced
from membership.billing.gateway.errors import InvalidRequest
from membership.billing.models import Payout, WebhookEvent, WebhookStatus
from membership.db import utcnow
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import Account, LedgerEntry
from membership.mail.notices import silenced
from membership.queue import enqueue_after_commit
from membership.unit_of_work import checkpoint

DEFAULT_RPS = 25.0  # live mode allows 100 read requests a second; leave room for the app itself
Progress = Callable[[Resource, int], None]  # (list, objects handled so far in it)
BeforeObject = Callable[[Resource, dict[str, Any]], None]  # tests inject a crash here


class Walk:
    def __init__(self, run: AdoptionRun, donation_products: frozenset[str], summary: Summary) -> None:
        self.run_id = run.id
        self.adopted_at = run.adopted_at
        self.donation_products = donation_products
        self.summary = summary

    def step(self, resource: Resource, obj: dict[str, Any]) -> None:
        """Make local state equal to one Stripe object. Flushes only."""
        s = self.summary
        if resource == "products":
            catalog.adopt_product(obj, self.donation_products, s)
        elif resource == "prices":
            catalog.adopt_price(obj, s)
        elif resource == "customers":
            customers.adopt_customer(obj, s)
        elif resource == "subscriptions":
            history.adopt_subscription(obj, utcnow())
        elif resource == "invoices":
            history.adopt_invoice(obj)
        elif resource == "charges":
            history.adopt_charge(obj, s)
        elif resource == "refunds":
            history.adopt_refund(obj)
        elif resource == "disputes":
            history.adopt_dispute(obj)
        elif resource == "payouts":
            history.adopt_payout(obj)
        elif resource == "balance_transactions":
            _tally_balance_transaction(obj, s)

    def quiet(self, obj: dict[str, Any]) -> Any:
        """History from before the adoption date mails nobody (the old system did)."""
        created = obj.get("created")
        if created is not None and datetime.fromtimestamp(int(created), tz=UTC) < self.adopted_at:
            return silenced("adopted from Stripe: this happened before the adoption date")
        return nullcontext()


def _tally_balance_transaction(txn: dict[str, Any], summary: Summary) -> None:
    """Stripe's balance is the sum of its balance transactions; types the books have no
    handler for (adjustments, Stripe's own fees, transfers) are counted for finance."""
    if str(txn.get("type")) not in _BOOKED_TYPES:
        summary.could_not_map(f"balance transactions of type {txn.get('type')}: not booked (see the tie-out)")


_BOOKED_TYPES = {"charge", "payment", "refund", "payment_refund", "refund_failure", "payment_failure_refund",
                 "adjustment", "payout", "payout_failure", "payout_cancel", "stripe_fee"}


def current_run(donation_products: frozenset[str]) -> AdoptionRun:
    """The unfinished run to resume, else a new one (dated by the first run ever)."""
    run = db.session.scalar(select(AdoptionRun).where(AdoptionRun.finished_at.is_(None))
                            .order_by(AdoptionRun.id).limit(1))
    if run is not None:
        if donation_products:
            run.donation_products = ",".join(sorted(donation_products))
        return run
    first = db.session.scalar(select(func.min(AdoptionRun.adopted_at)))
    now = utcnow()
    run = AdoptionRun(started_at=now, adopted_at=first or now, donation_products=",".join(sorted(donation_products)))
    db.session.add(run)
    db.session.flush()
    return run


def _checkpoint_row(run_id: int, resource: Resource) -> AdoptionCheckpoint:
    row = db.session.scalar(select(AdoptionCheckpoint).where(AdoptionCheckpoint.run_id == run_id,
                                                             AdoptionCheckpoint.resource == resource))
    if row is None:
        row = AdoptionCheckpoint(run_id=run_id, resource=resource, seen=0, updated_at=utcnow())
        db.session.add(row)
        db.session.flush()
    return row


def adopt(rps: float = DEFAULT_RPS, donation_products: frozenset[str] = frozenset(),
          progress: Progress | None = None, before_object: BeforeObject | None = None) -> Summary:
    """Run (or resume) the adoption to the end; returns the summary. Commits as it goes.

    Each list is walked from the newest object to the oldest, then forward from the
    newest it saw to what was created meanwhile; a last round of those catch-ups after
    every list picks up a customer created while, say, the invoices were walked.
    """
    run = current_run(donation_products)
    summary = Summary.from_json(run.summary)
    walk = Walk(run, frozenset(filter(None, run.donation_products.split(","))), summary)
    checkpoint()  # the run exists (and holds webhook events) before the first request
    hooks = Hooks(progress, before_object)
    with paced(rps):
        for resource in RESOURCES:
            _walk_list(walk, resource, hooks)
            _catch_up(walk, resource, hooks)
        for resource in RESOURCES:
            _catch_up(walk, resource, hooks)
        _finish(walk)
    return summary


@dataclass(frozen=True)
class Hooks:
    progress: Progress | None
    before_object: BeforeObject | None

    def handle(self, walk: Walk, resource: Resource, obj: dict[str, Any]) -> None:
        if self.before_object is not None:
            self.before_object(resource, obj)
        _one(walk, resource, obj)


def _walk_list(walk: Walk, resource: Resource, hooks: Hooks) -> None:
    """Newest to oldest, from the checkpoint on."""
    row = _checkpoint_row(walk.run_id, resource)
    if row.finished_at is not None:
        return
    after = row.starting_after
    checkpoint()
    for obj in account.each(resource, starting_after=after):
        hooks.handle(walk, resource, obj)
        seen = _advance(walk, resource, obj["id"], older=True)
        if hooks.progress is not None:
            hooks.progress(resource, seen)
    row = _checkpoint_row(walk.run_id, resource)
    row.finished_at = utcnow()
    checkpoint()


def _catch_up(walk: Walk, resource: Resource, hooks: Hooks) -> None:
    """Oldest to newest, from the newest handled: what appeared while the walk ran."""
    row = _checkpoint_row(walk.run_id, resource)
    before, seen_all = row.ending_before, row.seen
    checkpoint()
    if before is None and seen_all:
        return
    for obj in account.each(resource, ending_before=before) if before else account.each(resource):
        hooks.handle(walk, resource, obj)
        seen = _advance(walk, resource, obj["id"], older=False)
        if hooks.progress is not None:
            hooks.progress(resource, seen)


def _one(walk: Walk, resource: Resource, obj: dict[str, Any]) -> None:
    """One object's effects, or (rolled back) one line in the summary saying why not."""
    before = walk.summary.to_json()
    try:
        with walk.quiet(obj):
            walk.step(resource, obj)
    except (RetryLater, InvalidRequest) as exc:
        db.session.rollback()
        restored = Summary.from_json(before)
        walk.summary.__dict__.update(restored.__dict__)
        walk.summary.could_not_map(f"{resource[:-1]} {obj['id']}: {exc}")


def _advance(walk: Walk, resource: Resource, handled_id: str, older: bool) -> int:
    """The checkpoint and the summary, committed with the object's effects."""
    row = _checkpoint_row(walk.run_id, resource)
    if older:
        row.starting_after = handled_id
        row.ending_before = row.ending_before or handled_id  # the first one seen is the newest
    else:
        row.ending_before = handled_id
    row.seen += 1
    row.updated_at = utcnow()
    walk.summary.counts[resource] = row.seen
    run = db.session.get(AdoptionRun, walk.run_id)
    assert run is not None
    run.summary = walk.summary.to_json()
    seen = row.seen
    checkpoint()
    return seen


def _finish(walk: Walk) -> None:
    """MRR and the tie-out for the summary, the run closed, held webhook events released."""
    now = utcnow()
    summary = walk.summary
    mrr.mark_delinquent_churn(now)  # past due beyond the dunning window, as the nightly task does
    summary.mrr = {stream.value: mrr.mrr_at(now, stream) for stream in (Stream.MEMBERSHIP, Stream.RECURRING_DONATION)}
    summary.tie_out = _tie_out()
    run = db.session.get(AdoptionRun, walk.run_id)
    assert run is not None
    run.summary = summary.to_json()
    run.finished_at = now
    released = release_held()
    if released:
        summary.note("webhook events released", len(released))
        run.summary = summary.to_json()
    checkpoint()


def _tie_out() -> dict[str, dict[str, int]]:
    """Stripe's balance against the journal's stripe_clearing, per currency. Payouts on
    their way to the bank have left Stripe's balance but are booked when paid."""
    stripe_balance = account.balance()
    clearing = dict(db.session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.account == Account.STRIPE_CLEARING).group_by(LedgerEntry.currency)).all())
    in_transit = dict(db.session.execute(
        select(Payout.currency, func.sum(Payout.amount_minor))
        .where(Payout.status.in_(["pending", "in_transit"])).group_by(Payout.currency)).all())
    out: dict[str, dict[str, int]] = {}
    for cur in sorted(set(stripe_balance) | set(clearing)):
        booked, held, moving = int(clearing.get(cur) or 0), stripe_balance.get(cur, 0), int(in_transit.get(cur) or 0)
        out[cur] = {"stripe_balance": held, "clearing": booked, "in_transit": moving,
                    "difference": booked - moving - held}
    return out


def release_held() -> list[int]:
    """Events that waited (or died) for a reader get a fresh set of attempts, and go to
    the workers once this transaction commits. Flushes only."""
    ids = list(db.session.scalars(select(WebhookEvent.id).where(
        WebhookEvent.status.in_([WebhookStatus.FAILED, WebhookStatus.DEAD]),
        WebhookEvent.last_error.like(f"{RETRY_LATER_PREFIX}%"))))
    processing.reset_for_replay(ids)
    for row_id in ids:
        enqueue_after_commit(inbox.PROCESS_TASK, row_id)
    return ids

