"""Roll-ups answer exactly what the live computation does (PostgreSQL; SQLite has no
roll-ups and says so). A generated journal of random charges, refunds, disputes and
nightly recognition over 2025-2026 plus the open month is rolled up; then cash summary,
deferred roll-forward and waterfall over random ranges are compared with the same
reports computed live. A late refund of an old payment dirties its month: the reports
read it live (same numbers) until the next roll-up re-rolls it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from membership.billing.models import Payment
from membership.db import utcnow
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import Account
from membership.ledger.postings import Movement, ServiceLine, post_charge, post_reversal
from membership.ledger.recognition import recognize_through
from membership.reports import cash, deferred, rollup
from membership.reports.rollup_models import ReportDirty
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory

FIRST = date(2025, 6, 1)
STREAMS = (Stream.MEMBERSHIP, Stream.ONE_TIME_DONATION, Stream.RECURRING_DONATION)


def _charge(rng: random.Random, reader_id: int, when: datetime) -> Payment:
    stream, currency = rng.choice(STREAMS), rng.choice(("USD", "USD", "EUR"))
    gross = rng.choice((500, 1000, 1500, 10000))
    fee = gross * 29 // 1000 + 30
    until = when + timedelta(days=rng.choice((30, 31, 365)))
    payment = PaymentFactory(reader_id=reader_id, stream=stream, gross_minor=gross, fee_minor=fee,
                             net_minor=gross - fee, currency=currency, paid_at=when,
                             service_period_start=when, service_period_end=until)
    post_charge(payment, [ServiceLine(gross, when, until)] if stream is Stream.MEMBERSHIP else [])
    return payment


def _back(payment: Payment, key: str, kind: str, amount: int, fee: int, when: datetime) -> None:
    refund = kind.startswith("refund")
    post_reversal(payment, Movement(f"txn_{key}", amount, fee, amount - fee, payment.currency, when),
                  key=f"{kind}:{key}", kind=kind, contra=Account.REFUNDS if refund else Account.CHARGEBACKS,
                  fee_account=Account.PROCESSOR_FEES if refund else Account.DISPUTE_FEES)


def _generate(seed: int) -> list[Payment]:
    """~90 charges from June 2025 to now, 10% refunded, a few disputed (some reinstated),
    recognised at every month end, as the nightly task would."""
    rng = random.Random(seed)
    readers = [ReaderFactory().id for _ in range(12)]
    now = utcnow()
    start = datetime(2025, 6, 1, tzinfo=UTC)
    moments = sorted(start + (now - start) * rng.random() for _ in range(90))
    payments: list[Payment] = []
    month_end = date(2025, 6, 30)
    for n, when in enumerate(moments):
        while when.date() > month_end + timedelta(days=1):
            recognize_through(month_end)
            month_end = (month_end + timedelta(days=1) + timedelta(days=31)).replace(day=1) - timedelta(days=1)
        payment = _charge(rng, rng.choice(readers), when)
        payments.append(payment)
        later = min(when + timedelta(days=rng.randint(1, 40)), now - timedelta(minutes=1))
        if rng.random() < 0.1 and later > when:
            _back(payment, f"r{n}", "refund", -payment.gross_minor // 2, 0, later)
        elif rng.random() < 0.06 and later > when:
            _back(payment, f"d{n}", "dispute", -payment.gross_minor, 1500, later)
            if rng.random() < 0.5:
                _back(payment, f"d{n}b", "dispute_reversal", payment.gross_minor, -1500, later)
    return payments


def _month(k: int) -> date:
    return date(FIRST.year + (FIRST.month - 1 + k) // 12, (FIRST.month - 1 + k) % 12 + 1, 1)


def _reports(start: date, end: date) -> tuple[Any, ...]:
    return (cash.cash_summary(start, end), deferred.roll_forward(start, end), deferred.waterfall(start, end))


def _live(monkeypatch: pytest.MonkeyPatch, start: date, end: date) -> tuple[Any, ...]:
    with monkeypatch.context() as m:
        m.setattr(rollup, "current", lambda source, months: set())
        m.setattr(rollup, "current_before", lambda source, end: set())
        return _reports(start, end)


def _compare_random_ranges(monkeypatch: pytest.MonkeyPatch, rng: random.Random, draws: int) -> None:
    span = (rollup.open_month().year - FIRST.year) * 12 + rollup.open_month().month - FIRST.month + 2
    for _ in range(draws):
        a = rng.randrange(0, span)
        b = rng.randrange(a + 1, span + 1)
        start, end = _month(a - 1), _month(b)  # from before the data to past the open month
        assert _reports(start, end) == _live(monkeypatch, start, end), (start, end)


def test_rollups_equal_live_over_random_ranges(db_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    payments = _generate(seed=20261204)
    rng = random.Random(7)
    done = rollup.roll_up()
    closed = rollup.month_firsts(FIRST, rollup.open_month())
    assert set(closed) <= set(done[rollup.JOURNAL]) and set(closed) <= set(done[rollup.SCHEDULES])
    assert rollup.current(rollup.JOURNAL, closed) == set(closed)  # the reports do read them
    assert db.session.scalar(select(func.count()).select_from(ReportDirty)) == 0
    _compare_random_ranges(monkeypatch, rng, 25)

    # A late event dated in a rolled month (a refund of an old payment, processed late):
    old = next(p for p in payments if p.stream is Stream.MEMBERSHIP and p.paid_at.date() < date(2025, 9, 1))
    _back(old, "late", "refund", -100, 0, old.paid_at + timedelta(days=2))
    db.session.flush()
    assert rollup.current(rollup.JOURNAL, closed) != set(closed)  # its month is read live now
    assert rollup.current(rollup.SCHEDULES, closed) != set(closed)
    _compare_random_ranges(monkeypatch, rng, 10)
    again = rollup.roll_up()
    assert 0 < len(again[rollup.JOURNAL]) < len(closed)  # only what was marked is re-rolled
    assert rollup.current(rollup.JOURNAL, closed) == set(closed)
    _compare_random_ranges(monkeypatch, rng, 10)
    assert not any(rollup.roll_up().values())  # idempotent: nothing left


def test_recognition_alone_does_not_dirty_the_waterfall(db_session: Any) -> None:
    _generate(seed=11)
    rollup.roll_up()
    recognize_through(utcnow().date())
    assert not rollup.dirty_months(rollup.SCHEDULES)


def test_sqlite_reads_live_and_the_command_says_so(sqlite_app: Flask) -> None:
    assert not rollup.enabled() and rollup.current(rollup.JOURNAL, [date(2025, 1, 1)]) == set()
    assert rollup.roll_up() == {}
    result = CliRunner().invoke(sqlite_app.cli, ["reports", "rollup"])
    assert result.exit_code == 0 and "live" in result.output
