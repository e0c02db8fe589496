"""`flask stripe adopt`: a whole Stripe account made local, checked field by field
against the simulator; a second run changes nothing; a run killed midway and resumed
ends equal to one that was not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from membership.billing.adoption.models import AdoptionCheckpoint, AdoptionRun
from membership.billing.adoption.walk import adopt
from membership.billing.gateway import stripe_client
from membership.billing.models import Dispute, Payment, Payout, Refund, Subscription, SubscriptionEvent
from membership.enums import MrrMovement, Stream
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.services import unbalanced_transactions
from membership.mail.models import Notice, NoticeStatus
from tests.billing.adoption.account import Account
from tests.billing.adoption.support import row_counts, snapshot, truncate


def ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def every(resource: str, **params: Any) -> list[Any]:
    return list(getattr(stripe_client().v1, resource).list(params={"limit": 100, **params}).auto_paging_iter())


def imported_alice() -> int:
    """Alice was imported from the old platform before adoption (no customer id yet)."""
    reader = Reader(email="alice@example.com", name="Alice")
    db.session.add(reader)
    db.session.commit()
    return reader.id


def run_cli(app: Flask, acc: Account, *extra: str) -> Any:
    result = app.test_cli_runner().invoke(args=["stripe", "adopt", "--rps", "100",
                                                "--donation-products", acc.donation_product, *extra])
    assert result.exit_code == 0, result.output
    return result


def test_adoption_equals_the_account_field_by_field(adopt_app: Flask, fresh_db: Account) -> None:
    acc = fresh_db
    alice_id = imported_alice()
    result = run_cli(adopt_app, acc)

    # readers: one per customer; the imported member linked by email, not duplicated
    customers = every("customers")
    readers = {r.stripe_customer_id: r for r in db.session.scalars(select(Reader))}
    assert set(readers) == {c.id for c in customers}
    for c in customers:
        assert readers[c.id].email == c.email
    assert readers[acc.customers["alice"]].id == alice_id

    # subscriptions: status, period, cancel flag, currency, stream
    local = {s.stripe_subscription_id: s for s in db.session.scalars(select(Subscription))}
    remote = every("subscriptions", status="all")
    assert set(local) == {s.id for s in remote}
    for s in remote:
        mine, item = local[s.id], s["items"].data[0]
        assert (mine.status.value, mine.cancel_at_period_end, mine.currency, mine.unit_amount_minor) == (
            s.status, s.cancel_at_period_end, s.currency.upper(), item.price.unit_amount)
        assert (mine.current_period_start, mine.current_period_end) == (
            ts(item.current_period_start), ts(item.current_period_end))
        assert mine.ended_at == ts(s.ended_at)
    status = {who: local[sub_id].status.value for who, sub_id in acc.subs.items()}
    assert status == {"alice": "active", "bea": "trialing", "carl": "past_due", "dora": "active",
                      "emil": "active", "finn": "canceled", "gus": "active"}
    assert local[acc.subs["dora"]].cancel_at_period_end
    assert local[acc.subs["emil"]].stream is Stream.RECURRING_DONATION
    assert local[acc.subs["finn"]].stream is Stream.MEMBERSHIP  # unlabelled: membership, and listed

    # MRR from each subscription's start
    moves: dict[str, list[tuple[str, int, datetime]]] = {}
    for m in db.session.scalars(select(SubscriptionEvent).order_by(SubscriptionEvent.occurred_at)):
        sub = db.session.get(Subscription, m.subscription_id)
        assert sub is not None
        moves.setdefault(sub.stripe_subscription_id, []).append((m.kind.value, m.mrr_delta_minor, m.occurred_at))
    started = {s.id: ts(s.start_date) for s in remote}
    assert moves[acc.subs["alice"]] == [(MrrMovement.NEW.value, 1000, started[acc.subs["alice"]])]
    assert acc.subs["bea"] not in moves  # trialing: no MRR yet
    finn = local[acc.subs["finn"]]
    assert moves[acc.subs["finn"]] == [(MrrMovement.NEW.value, 1000, started[acc.subs["finn"]]),
                                       (MrrMovement.CHURN_VOLUNTARY.value, -1000, finn.ended_at)]
    carl = [k for k, _, _ in moves[acc.subs["carl"]]]
    assert carl == [MrrMovement.NEW.value, MrrMovement.CHURN_DELINQUENT.value]  # past due for months

    # payments: one per succeeded charge, amounts from its balance transaction
    payments = {p.stripe_charge_id: p for p in db.session.scalars(select(Payment))}
    charges = [c for c in every("charges") if c.status == "succeeded"]
    assert set(payments) == {c.id for c in charges}
    for c in charges:
        txn = stripe_client().v1.balance_transactions.retrieve(c.balance_transaction)
        p = payments[c.id]
        assert (p.gross_minor, p.fee_minor, p.net_minor, p.currency, p.balance_transaction_id, p.paid_at) == (
            txn.amount, txn.fee, txn.net, txn.currency.upper(), txn.id, ts(c.created))
    assert {p.currency for p in payments.values()} == {"USD", "EUR"}

    refunds = {r.stripe_refund_id: r for r in db.session.scalars(select(Refund))}
    assert {(r.id, r.amount, r.status) for r in every("refunds")} == {
        (k, r.amount_minor, r.status) for k, r in refunds.items()}
    disputes = {d.stripe_dispute_id: d for d in db.session.scalars(select(Dispute))}
    remote_disputes = every("disputes")
    assert remote_disputes and {(d.id, d.amount, d.status) for d in remote_disputes} == {
        (k, d.amount_minor, d.status) for k, d in disputes.items()}
    payouts = {p.stripe_payout_id: p for p in db.session.scalars(select(Payout))}
    remote_payouts = every("payouts")
    assert remote_payouts and {(p.id, p.amount, p.status) for p in remote_payouts} == {
        (k, p.amount_minor, p.status) for k, p in payouts.items()}
    assert all(p.reconciled_at is not None for p in payouts.values() if p.status == "paid")

    # the books balance and tie to Stripe's balance; history mailed nobody
    assert unbalanced_transactions() == []
    run = db.session.scalars(select(AdoptionRun)).one()
    assert run.finished_at is not None
    assert "difference $0.00" in result.output and "difference €0.00" in result.output, result.output
    notices = list(db.session.scalars(select(Notice)))
    assert notices and all(n.status is NoticeStatus.SUPPRESSED for n in notices)

    # the summary: counts, MRR per currency, what it could not map
    assert f"customers {len(customers)}" in result.output
    assert "MRR membership: €9.00, $20.00" in result.output, result.output  # dora; alice + gus
    assert "MRR recurring_donation: $5.00" in result.output
    assert acc.unlabelled_product in result.output and "counted as membership" in result.output


def test_a_second_run_changes_nothing(adopt_app: Flask, fresh_db: Account) -> None:
    imported_alice()
    run_cli(adopt_app, fresh_db)
    counts, state = row_counts(), snapshot()
    assert counts["payments"] and counts["subscription_events"]
    run_cli(adopt_app, fresh_db)
    assert row_counts() == counts
    assert snapshot() == state


class Crash(Exception):
    pass


def test_an_adoption_killed_midway_resumes_and_ends_equal(adopt_app: Flask, fresh_db: Account) -> None:
    imported_alice()
    run_cli(adopt_app, fresh_db)
    clean = snapshot()
    truncate()
    imported_alice()
    handled: list[str] = []

    def crash_after(resource: str, obj: dict[str, Any]) -> None:
        if resource == "invoices" and len([r for r in handled if r == "invoices"]) == 3:
            raise Crash("killed")
        handled.append(resource)

    with pytest.raises(Crash):
        adopt(rps=100, donation_products=frozenset({fresh_db.donation_product}), before_object=crash_after)
    db.session.rollback()
    run = db.session.scalars(select(AdoptionRun)).one()
    assert run.finished_at is None
    marks = {c.resource: c for c in db.session.scalars(select(AdoptionCheckpoint))}
    assert marks["customers"].finished_at is not None and marks["invoices"].seen == 3
    run_cli(adopt_app, fresh_db)
    assert snapshot() == clean
    assert len(list(db.session.scalars(select(AdoptionRun)))) == 1  # the same run, resumed
