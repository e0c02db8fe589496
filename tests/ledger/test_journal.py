"""The journal: balanced groups only, once per key, in the right (open) month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select

from membership.enums import Stream
from membership.extensions import db
from membership.ledger.guard import UnbalancedCommit
from membership.ledger.journal import UnbalancedJournal, credit, debit, post
from membership.ledger.models import Account, ClosedPeriod, JournalTransaction, LedgerEntry

A = Account
WHEN = datetime(2026, 3, 10, 12, tzinfo=UTC)


def charge_lines(gross: int = 1000, fee: int = 59, currency: str = "usd") -> list[Any]:
    return [
        debit(A.STRIPE_CLEARING, gross - fee, currency, Stream.MEMBERSHIP),
        debit(A.PROCESSOR_FEES, fee, currency, Stream.MEMBERSHIP),
        credit(A.DEFERRED_REVENUE, gross, currency, Stream.MEMBERSHIP),
    ]


def test_balanced_group_is_posted_with_signed_lines(db_session: Any) -> None:
    txn = post("charge:ch_1", "charge", WHEN, charge_lines(), memo="first")
    assert txn is not None and txn.period == date(2026, 3, 1) and txn.kind == "charge"
    lines = db_session.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id == txn.id)).all()
    assert sorted((e.account.value, e.amount_minor, e.currency) for e in lines) == [
        ("deferred_revenue", -1000, "USD"), ("processor_fees", 59, "USD"), ("stripe_clearing", 941, "USD")]
    assert {e.stream for e in lines} == {Stream.MEMBERSHIP}


def test_same_key_posts_once(db_session: Any) -> None:
    first = post("charge:ch_2", "charge", WHEN, charge_lines())
    again = post("charge:ch_2", "charge", WHEN, charge_lines(5000, 175))
    assert first is not None and again is not None and again.id == first.id
    assert db_session.scalar(select(func.count()).select_from(LedgerEntry)) == 3


def test_unbalanced_group_is_refused_and_nothing_written(db_session: Any) -> None:
    lines = [debit(A.STRIPE_CLEARING, 941, "usd"), credit(A.DEFERRED_REVENUE, 1000, "usd")]
    with pytest.raises(UnbalancedJournal, match="USD"):
        post("charge:bad", "charge", WHEN, lines)
    assert db_session.scalar(select(func.count()).select_from(JournalTransaction)) == 0


def test_balance_is_per_currency(db_session: Any) -> None:
    lines = [debit(A.STRIPE_CLEARING, 100, "usd"), credit(A.DONATION_REVENUE, 100, "eur")]
    with pytest.raises(UnbalancedJournal):
        post("fx:bad", "charge", WHEN, lines)
    mixed = charge_lines(1000, 59, "usd") + charge_lines(900, 56, "eur")
    txn = post("two:currencies", "charge", WHEN, mixed)
    assert txn is not None


def test_zero_lines_are_dropped_and_empty_groups_not_posted(db_session: Any) -> None:
    assert post("nothing", "charge", WHEN, [debit(A.BANK, 0, "usd"), credit(A.STRIPE_CLEARING, 0, "usd")]) is None
    txn = post("no-fee", "charge", WHEN, charge_lines(1000, 0))
    assert txn is not None
    assert db_session.scalar(select(func.count()).where(LedgerEntry.transaction_id == txn.id)) == 2


def test_period_is_the_outlet_local_month(db_session: Any) -> None:
    # 2026-04-01 05:00 UTC is still March 31 in Los Angeles (the default outlet zone)
    txn = post("tz", "charge", datetime(2026, 4, 1, 5, tzinfo=UTC), charge_lines())
    assert txn is not None and txn.period == date(2026, 3, 1)


def test_closed_months_post_to_the_first_open_month(db_session: Any) -> None:
    for month in (3, 4):
        db_session.add(ClosedPeriod(period=date(2026, month, 1), closed_by="finance@example.org"))
    db_session.add(ClosedPeriod(period=date(2026, 6, 1), closed_by="finance@example.org",
                                reopened_at=datetime(2026, 7, 2, tzinfo=UTC)))
    db_session.flush()
    late = post("late", "refund", WHEN, charge_lines())
    assert late is not None and late.period == date(2026, 5, 1)
    reopened = post("reopened", "refund", datetime(2026, 6, 15, 12, tzinfo=UTC), charge_lines())
    assert reopened is not None and reopened.period == date(2026, 6, 1)


def test_hand_written_unbalanced_entry_cannot_be_committed(db_session: Any) -> None:
    txn = post("hand", "charge", WHEN, charge_lines())
    assert txn is not None
    db_session.commit()
    db_session.add(LedgerEntry(transaction_id=txn.id, account=A.BANK, amount_minor=1, currency="USD"))
    with pytest.raises(UnbalancedCommit):
        db_session.commit()
    db_session.rollback()
    assert db_session.scalar(select(func.count()).where(LedgerEntry.transaction_id == txn.id)) == 3


def test_postgres_trigger_rejects_raw_sql_at_commit(app: Flask) -> None:
    """Bypasses the ORM entirely: only the deferred constraint trigger can catch this."""
    with app.app_context():
        insert_txn = sa.text(
            "INSERT INTO journal_transactions (key, kind, occurred_at, period, memo, created_at) "
            "VALUES (:key, 'raw', now(), DATE '2026-03-01', '', now()) RETURNING id")
        insert_line = sa.text(
            "INSERT INTO ledger_entries (transaction_id, account, amount_minor, currency) VALUES (:t, :a, :m, 'USD')")
        with db.engine.connect() as conn:
            with pytest.raises(sa.exc.IntegrityError, match="does not balance"), conn.begin():
                txn_id = conn.execute(insert_txn, {"key": "raw:bad"}).scalar_one()
                conn.execute(insert_line, {"t": txn_id, "a": "bank", "m": 500})
                conn.execute(insert_line, {"t": txn_id, "a": "stripe_clearing", "m": -400})
            with conn.begin():  # a balanced group commits; edits that unbalance it are refused too
                txn_id = conn.execute(insert_txn, {"key": "raw:ok"}).scalar_one()
                conn.execute(insert_line, {"t": txn_id, "a": "bank", "m": 500})
                conn.execute(insert_line, {"t": txn_id, "a": "stripe_clearing", "m": -500})
            with pytest.raises(sa.exc.IntegrityError, match="does not balance"), conn.begin():
                conn.execute(sa.text("UPDATE ledger_entries SET amount_minor = 499 WHERE transaction_id = :t "
                                     "AND account = 'bank'"), {"t": txn_id})
            with conn.begin():
                conn.execute(sa.text("DELETE FROM ledger_entries WHERE transaction_id = :t"), {"t": txn_id})
                conn.execute(sa.text("DELETE FROM journal_transactions WHERE id = :t"), {"t": txn_id})
            count = conn.execute(sa.text("SELECT count(*) FROM journal_transactions WHERE kind = 'raw'")).scalar()
        assert count == 0


def test_sqlite_service_check_refuses_unbalanced_commit(sqlite_app: Flask) -> None:
    txn = post("sqlite", "charge", WHEN, charge_lines())
    assert txn is not None
    db.session.commit()
    db.session.add(LedgerEntry(transaction_id=txn.id, account=A.BANK, amount_minor=7, currency="USD"))
    with pytest.raises(UnbalancedCommit):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 3
