"""Payouts reconcile against their balance transactions, split by stream; clearing -> bank."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.billing import processing
from membership.billing.gateway import stripe_client
from membership.billing.handlers.payouts import _reconcile
from membership.billing.models import Payout, PayoutLine
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import Account, LedgerEntry
from tests.billing.webhook_support import (
    deliver_and_process,
    latest_event_id,
    make_reader,
    sim_customer,
    sim_events_since,
)
from tests.ledger.money_support import balances, catalogue_price, every_group_balances, feed, journal

DAY = 86400
T0 = 1775001600  # 2026-04-01T00:00:00Z


def test_payout_lines_by_stream_reconcile_and_move_clearing_to_bank(client: FlaskClient, stripe_sim: Any) -> None:
    sdk = stripe_client()
    clock = sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "payouts"})
    reader = make_reader()
    customer = sim_customer(reader, clock=clock.id)
    member = catalogue_price(1000)
    gift = catalogue_price(2500, stream=Stream.RECURRING_DONATION)
    mark = latest_event_id()
    sub = sdk.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": member.id}],
                                              "expand": ["latest_invoice.payments.data.payment.payment_intent"]})
    sdk.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": gift.id}]})
    charge = sub.latest_invoice.payments.data[0].payment.payment_intent.latest_charge
    sdk.v1.refunds.create(params={"charge": charge, "amount": 300})
    sdk.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 4 * DAY + 60})
    feed(client, mark)

    payout = db.session.scalars(select(Payout)).one()
    expected = (1000 - 59) + (2500 - 103) - 300
    assert (payout.amount_minor, payout.status, payout.lines_net_minor) == (expected, "paid", expected)
    assert payout.reconciled_at is not None and payout.mismatch_note is None
    lines = db.session.scalars(select(PayoutLine).order_by(PayoutLine.net_minor)).all()
    assert [(ln.reporting_category, ln.stream, ln.net_minor) for ln in lines] == [
        ("refund", Stream.MEMBERSHIP, -300), ("charge", Stream.MEMBERSHIP, 941),
        ("charge", Stream.RECURRING_DONATION, 2397)]
    (moved,) = journal("payout")
    assert balances(Stream.MEMBERSHIP)[Account.BANK] == 641
    assert balances(Stream.RECURRING_DONATION)[Account.BANK] == 2397
    assert balances()[Account.STRIPE_CLEARING] == 0 and moved.memo.endswith(payout.stripe_payout_id)
    assert every_group_balances()


def test_a_payout_whose_lines_do_not_add_up_is_flagged(db_session: Any) -> None:
    payout = Payout(stripe_payout_id="po_mismatch", amount_minor=1000, currency="USD", status="paid")
    db.session.add(payout)
    db.session.flush()
    line = PayoutLine(payout_id=payout.id, balance_transaction_id="txn_x", type="charge", reporting_category="charge",
                      amount_minor=1000, fee_minor=59, net_minor=941, currency="USD")
    db.session.add(line)
    _reconcile(payout, [line])
    assert payout.reconciled_at is None and payout.lines_net_minor == 941
    assert payout.mismatch_note is not None and "difference -$0.59" in payout.mismatch_note


def test_a_paid_payout_that_fails_later_moves_the_money_back_to_clearing(db_session: Any) -> None:
    """The simulator never fails a payout, so the booked state is built directly."""
    from datetime import UTC, datetime

    from membership.billing.handlers.payouts import reverse_failed_payout
    from membership.ledger.postings import post_payout

    payout = Payout(stripe_payout_id="po_bounced", amount_minor=2000, currency="USD", status="failed")
    db.session.add(payout)
    db.session.flush()
    post_payout("po_bounced", 2000, "USD", datetime(2026, 5, 2, tzinfo=UTC), {Stream.MEMBERSHIP: 2000})
    reverse_failed_payout(payout)
    reverse_failed_payout(payout)
    assert len(journal("payout_failed")) == 1
    assert balances(Stream.MEMBERSHIP) == {Account.BANK: 0, Account.STRIPE_CLEARING: 0}
    assert every_group_balances()


def test_a_payout_processed_before_its_charges_is_attributed_when_they_are_recorded(
        client: FlaskClient, stripe_sim: Any) -> None:
    """Stripe's order is no promise: the payout's events can be processed while the
    invoice's are still retrying. Its lines start unattributed and get their stream (and
    a journal move from unattributed to it) when the payment and refund are recorded."""
    from membership.billing.handlers.payouts import sync_payout

    sdk = stripe_client()
    clock = sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "late charges"})
    reader = make_reader()
    customer = sim_customer(reader, clock=clock.id)
    member = catalogue_price(1000)
    mark = latest_event_id()
    sub = sdk.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": member.id}],
                                              "expand": ["latest_invoice.payments.data.payment.payment_intent"]})
    charge = sub.latest_invoice.payments.data[0].payment.payment_intent.latest_charge
    sdk.v1.refunds.create(params={"charge": charge, "amount": 300})
    sdk.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0 + 4 * DAY + 60})

    payout_events = [e for e in sim_events_since(mark) if e["type"].startswith("payout.")]
    assert set(deliver_and_process(client, payout_events)) == {processing.Outcome.PROCESSED}
    payout = db.session.scalars(select(Payout)).one()
    assert {ln.stream for ln in db.session.scalars(select(PayoutLine))} == {None}
    assert balances()[Account.BANK] == 641 and balances(Stream.MEMBERSHIP).get(Account.BANK, 0) == 0

    feed(client, mark, skip=("payout.",))

    lines = db.session.scalars(select(PayoutLine).order_by(PayoutLine.net_minor)).all()
    assert [(ln.reporting_category, ln.stream, ln.net_minor) for ln in lines] == [
        ("refund", Stream.MEMBERSHIP, -300), ("charge", Stream.MEMBERSHIP, 941)]
    assert len(journal("payout_attribution")) == 2
    sync_payout(payout.stripe_payout_id)  # a later payout event re-syncs: nothing moves twice
    assert len(journal("payout_attribution")) == 2
    assert balances(Stream.MEMBERSHIP)[Account.BANK] == 641
    assert balances(Stream.MEMBERSHIP)[Account.STRIPE_CLEARING] == 0
    unattributed = dict(db.session.execute(select(LedgerEntry.account, func.sum(LedgerEntry.amount_minor))
                                           .where(LedgerEntry.stream.is_(None)).group_by(LedgerEntry.account)).all())
    assert set(unattributed.values()) <= {0}, unattributed
    assert every_group_balances()
