"""The journal export of rolled months, read from its stored copy (journal_store.py),
is byte for byte the live file (accounting_csv.csv_file), over random month ranges
from before the data to past the open month, both targets, a two-decimal and a
zero-decimal currency: right after the roll-up, after a late refund dated in a rolled
month (read live until re-rolled), after a memo edit, a rename and an erasure (the
erased reader's name and email are in neither file), and when a re-rolled month holds
an unbalanced journal (the same 409). The API serves the copy's bytes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from membership.billing.models import Payment
from membership.db import utcnow
from membership.enums import StaffRole, Stream
from membership.extensions import db
from membership.identity.models import Reader
from membership.ledger.models import Account, JournalTransaction, LedgerEntry
from membership.ledger.postings import Movement, ServiceLine, post_charge, post_reversal
from membership.ledger.recognition import recognize_through
from membership.readers.privacy import erase
from membership.reports import accounting, accounting_csv, journal_store, rollup
from membership.staff.services import create_staff_user
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.readers.helpers import unique_email

FIRST = date(2025, 6, 1)
STREAMS = (Stream.MEMBERSHIP, Stream.ONE_TIME_DONATION, Stream.RECURRING_DONATION)
TARGETS = ("quickbooks", "xero")
NAMES = ["Ada", "a,b", 'say "hi"', "line\nbreak", "=SUM(A1)", "+1", "", "é ünïcode"]


def _generate(seed: int) -> tuple[list[Payment], list[int]]:
    """~80 charges from June 2025 to now in USD, EUR and JPY, some refunded, recognised
    at every month end; readers with tricky names (some without one: email shown)."""
    rng = random.Random(seed)
    readers = [ReaderFactory(name=rng.choice(NAMES), email=f"r{n}.{seed}@example.org").id for n in range(10)]
    now = utcnow()
    start = datetime(2025, 6, 1, tzinfo=UTC)
    payments: list[Payment] = []
    month_end = date(2025, 6, 30)
    for n, when in enumerate(sorted(start + (now - start) * rng.random() for _ in range(80))):
        while when.date() > month_end + timedelta(days=1):
            recognize_through(month_end)
            month_end = (month_end + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        stream, currency = rng.choice(STREAMS), rng.choice(("USD", "USD", "EUR", "JPY"))
        gross = rng.choice((500, 1000, 1500, 10000))
        fee = gross * 29 // 1000 + 30
        until = when + timedelta(days=rng.choice((30, 31, 365)))
        payment = PaymentFactory(reader_id=rng.choice(readers + [None]), stream=stream, gross_minor=gross,
                                 fee_minor=fee, net_minor=gross - fee, currency=currency, paid_at=when,
                                 service_period_start=when, service_period_end=until)
        post_charge(payment, [ServiceLine(gross, when, until)] if stream is Stream.MEMBERSHIP else [])
        payments.append(payment)
        later = min(when + timedelta(days=rng.randint(1, 40)), now - timedelta(minutes=1))
        if rng.random() < 0.15 and later > when:
            _refund(payment, f"r{n}", later)
    db.session.flush()
    return payments, readers


def _refund(payment: Payment, key: str, when: datetime) -> None:
    amount = -payment.gross_minor // 2
    post_reversal(payment, Movement(f"txn_{key}", amount, 0, amount, payment.currency, when),
                  key=f"refund:{key}", kind="refund", contra=Account.REFUNDS, fee_account=Account.PROCESSOR_FEES)


def _month(k: int) -> date:
    return date(FIRST.year + (FIRST.month - 1 + k) // 12, (FIRST.month - 1 + k) % 12 + 1, 1)


def _closed() -> list[date]:
    return rollup.month_firsts(FIRST, rollup.open_month())


def _compare_random_ranges(rng: random.Random, draws: int) -> None:
    """Stored-copy file == live file; and the copy is really read for the current months."""
    span = (rollup.open_month().year - FIRST.year) * 12 + rollup.open_month().month - FIRST.month + 2
    for _ in range(draws):
        a = rng.randrange(0, span)
        start, end = _month(a - 1), _month(rng.randrange(a + 1, span + 1))
        for currency in ("USD", "JPY"):
            current = rollup.current(rollup.JOURNAL, rollup.month_firsts(start, end))
            assert journal_store.stored_months(start, end, currency) == current
            for target in TARGETS:
                stored = journal_store.csv_file(start, end, currency, target)
                assert stored == accounting_csv.csv_file(start, end, currency, target), (start, end, currency, target)


def _whole(currency: str = "USD", target: str = "quickbooks") -> str:
    return journal_store.csv_file(_month(-1), rollup.open_month(), currency, target)


def test_stored_copy_is_the_live_file(db_session: Any) -> None:
    payments, readers = _generate(seed=1504)
    rng = random.Random(15)
    rollup.roll_up()
    assert journal_store.stored_months(FIRST, rollup.open_month(), "USD") == set(_closed())
    assert _whole().count("\r\n") > 50
    _compare_random_ranges(rng, 12)

    # A late refund dated in a rolled month: that month is read live until re-rolled.
    old = next(p for p in payments if p.currency == "USD" and p.paid_at.date() < date(2025, 10, 1))
    _refund(old, "late", old.paid_at + timedelta(days=1))
    db.session.flush()
    assert journal_store.stored_months(FIRST, rollup.open_month(), "USD") != set(_closed())
    _compare_random_ranges(rng, 6)
    rerolled = rollup.roll_up()[rollup.JOURNAL]
    assert 0 < len(rerolled) < len(_closed())
    assert journal_store.stored_months(FIRST, rollup.open_month(), "USD") == set(_closed())
    assert f"txn_late of {old.stripe_charge_id}" in _whole()
    _compare_random_ranges(rng, 6)

    # A memo edited in a rolled month (the journal group's trigger marks it).
    group = db.session.scalars(select(JournalTransaction).where(JournalTransaction.period == FIRST)).first()
    assert group is not None
    group.memo = "=HYPERLINK(\"x\"), edited"
    db.session.flush()
    assert FIRST not in journal_store.stored_months(FIRST, rollup.open_month(), "USD")
    _compare_random_ranges(rng, 4)
    rollup.roll_up()
    currency = db.session.scalars(select(LedgerEntry.currency).where(LedgerEntry.transaction_id == group.id)).first()
    assert FIRST in journal_store.stored_months(FIRST, rollup.open_month(), str(currency))
    assert "\"'=HYPERLINK(\"\"x\"\"), edited\"" in _whole(str(currency))
    _compare_random_ranges(rng, 4)


def test_rename_and_erasure_show_at_once_without_a_re_roll(db_session: Any) -> None:
    _payments, readers = _generate(seed=77)
    named = [r for r in (db.session.get(Reader, rid) for rid in readers) if r is not None]
    for n, reader in enumerate(named):
        reader.name = f"Reader Name {n}"  # one name each: the erased one must vanish, not hide behind a twin
    db.session.flush()
    rollup.roll_up()
    shown = [r for r in named if f",{r.name}\r\n" in _whole()]
    assert len(shown) >= 2
    renamed, erased = shown[0], shown[1]
    old_name, old_email = erased.name, erased.email
    renamed.name = "Grace Hopper"
    erase(erased, actor="test")
    db.session.flush()
    assert not rollup.dirty_months(rollup.JOURNAL)  # nothing re-rolled: the names are joined when read
    for currency in ("USD", "EUR", "JPY"):
        for target in TARGETS:
            stored = _whole(currency, target)
            assert stored == accounting_csv.csv_file(_month(-1), rollup.open_month(), currency, target)
            assert old_email not in stored and old_name not in stored
    assert ",Grace Hopper\r\n" in _whole() and f",erased-{erased.id}@invalid\r\n" in _whole()


def test_unbalanced_rolled_month_is_refused_the_same_way(db_session: Any) -> None:
    _generate(seed=3)
    entry = db.session.scalars(select(LedgerEntry.id).join(JournalTransaction).where(
        LedgerEntry.currency == "USD", JournalTransaction.period == _month(2)).limit(1)).one()
    db.session.execute(update(LedgerEntry).where(LedgerEntry.id == entry).values(amount_minor=LedgerEntry.amount_minor + 1))
    rollup.roll_up()
    assert _month(2) not in journal_store.stored_months(FIRST, rollup.open_month(), "USD")  # refused: read live
    assert _month(3) in journal_store.stored_months(FIRST, rollup.open_month(), "USD")
    with pytest.raises(accounting.UnbalancedExport) as live:
        accounting_csv.csv_file(FIRST, rollup.open_month(), "USD", "quickbooks")
    with pytest.raises(accounting.UnbalancedExport) as stored:
        journal_store.csv_file(FIRST, rollup.open_month(), "USD", "quickbooks")
    assert str(stored.value) == str(live.value)


def test_a_copy_built_in_another_layout_is_not_read(db_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _generate(seed=5)
    rollup.roll_up()
    assert journal_store.stored_months(FIRST, rollup.open_month(), "USD")
    monkeypatch.setattr(journal_store, "layout", lambda: "Europe/Paris;another-chart")  # the outlet moved zone
    assert journal_store.stored_months(FIRST, rollup.open_month(), "USD") == set()
    assert _whole() == accounting_csv.csv_file(_month(-1), rollup.open_month(), "USD", "quickbooks")


def test_the_api_serves_the_stored_copy(client: FlaskClient, db_session: Any) -> None:
    _generate(seed=9)
    rollup.roll_up()
    _user, token = create_staff_user(unique_email("fin"), StaffRole.FINANCE)
    db.session.commit()
    start, end = _month(1), _month(4)
    assert journal_store.stored_months(start, end, "USD") == set(rollup.month_firsts(start, end))
    for target in TARGETS:
        response = client.get(f"/api/staff/reports/journal-export?start={start}&end={end}&currency=USD"
                              f"&target={target}&format=csv", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.get_data(as_text=True) == accounting_csv.csv_file(start, end, "USD", target)
