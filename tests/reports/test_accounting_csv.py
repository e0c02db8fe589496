"""The journal export written by PostgreSQL (accounting_csv.py) is byte for byte the
file the Python writer makes (accounting.csv_rows through csv_safe.csv_text), over
journals whose memos and reader names hold every character the CSV and formula rules
treat specially, in a two-decimal and a zero-decimal currency, for both targets; and it
refuses an unbalanced journal with the same 409."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from membership.csv_safe import DANGEROUS_PREFIXES, csv_text
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import JournalTransaction, LedgerEntry
from membership.ledger.postings import ServiceLine, post_charge
from membership.reports import accounting, accounting_csv
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory

TRICKY = ["", " ", "plain", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "tab\tin", "trailing  ",
          "trailing\u00a0", "trailing\u2003", "\u2028sep", "\\.", "'quoted", "é ünïcode", "x\x0bvt"]
TRICKY += [p + "x" for p in DANGEROUS_PREFIXES] + [p + "a,b" for p in DANGEROUS_PREFIXES] + list(DANGEROUS_PREFIXES)


def _journals(rng: random.Random, currency: str) -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for n in range(40):
        name = rng.choice(TRICKY + [""] * 4)
        reader = ReaderFactory(name=name, email=f"{rng.choice(TRICKY)}r{n}.{currency}@example.org".lower())
        stream = rng.choice((Stream.MEMBERSHIP, Stream.ONE_TIME_DONATION, Stream.RECURRING_DONATION))
        gross = rng.choice((1, 99, 100, 2500, 123456))
        fee = min(gross - 1, rng.choice((0, 1, 30, 117)))
        when = start + timedelta(hours=rng.randrange(0, 24 * 62))
        payment = PaymentFactory(stream=stream, gross_minor=gross, fee_minor=fee, net_minor=gross - fee,
                                 currency=currency, paid_at=when, reader_id=reader.id if n % 7 else None)
        lines = [ServiceLine(gross, when, when + timedelta(days=30))] if stream is Stream.MEMBERSHIP else []
        group = post_charge(payment, lines)
        memo = rng.choice(TRICKY)
        db.session.execute(update(JournalTransaction).where(JournalTransaction.id == group.id).values(memo=memo))
    db.session.flush()


def _python(start: date, end: date, currency: str, target: str) -> str:
    header = accounting.QUICKBOOKS_HEADER if target == "quickbooks" else accounting.XERO_HEADER
    return csv_text(header, accounting.csv_rows(start, end, currency, target))


@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_sql_file_is_the_python_file(db_session: Any, currency: str) -> None:
    _journals(random.Random(15), currency)
    for target in ("quickbooks", "xero"):
        for start, end in ((date(2026, 3, 1), date(2026, 4, 1)), (date(2026, 2, 1), date(2026, 6, 1))):
            sql = accounting_csv.csv_file(start, end, currency, target)
            assert sql == _python(start, end, currency, target), (target, start, end)
            assert sql.count("\r\n") > 1
    empty = accounting_csv.csv_file(date(2025, 1, 1), date(2025, 2, 1), currency, "xero")
    assert empty == _python(date(2025, 1, 1), date(2025, 2, 1), currency, "xero")


def test_unbalanced_journal_is_refused_the_same_way(db_session: Any) -> None:
    _journals(random.Random(3), "USD")
    entry = db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.currency == "USD").limit(1)).one()
    db.session.execute(update(LedgerEntry).where(LedgerEntry.id == entry)
                       .values(amount_minor=LedgerEntry.amount_minor + 1))
    with pytest.raises(accounting.UnbalancedExport) as live:
        _python(date(2026, 3, 1), date(2026, 6, 1), "USD", "quickbooks")
    with pytest.raises(accounting.UnbalancedExport) as sql:
        accounting_csv.csv_file(date(2026, 3, 1), date(2026, 6, 1), "USD", "quickbooks")
    assert str(sql.value) == str(live.value)
