"""CSV formula injection: every text cell that a spreadsheet would run is written as
text (a leading quote); numbers stay numbers, negative ones included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from membership.csv_safe import DANGEROUS_PREFIXES, csv_text, safe_cell
from membership.enums import StaffRole, Stream
from membership.extensions import db
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.reports.test_accounting import URL, _charge
from tests.staff.helpers import bearer

PAYLOAD = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_each_dangerous_prefix_is_neutralised(prefix: str) -> None:
    cell = f"{prefix}1+cmd|' /C calc'!A0"
    assert safe_cell(cell) == "'" + cell
    [row] = list(csv.reader(io.StringIO(csv_text(["h"], [[cell]]).split("\r\n", 1)[1])))
    assert row == ["'" + cell]


def test_the_six_prefixes_are_the_issues() -> None:
    assert set(DANGEROUS_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}


def test_numbers_and_harmless_text_are_untouched() -> None:
    assert [safe_cell(v) for v in (-1200, 0, Decimal("-0.01"), -2.5, True, None)] == [
        -1200, 0, Decimal("-0.01"), -2.5, True, None]
    assert [safe_cell(v) for v in ("Ana", "", " =x", "a=b", "1-2", date(2026, 1, 2))] == [
        "Ana", "", " =x", "a=b", "1-2", "2026-01-02"]
    assert safe_cell(Stream.MEMBERSHIP) == "membership"
    text = csv_text(["name", "amount"], [["-Bob", -1200], ["@Eve", Decimal("-0.01")], ["=1+1", None]])
    assert text == "name,amount\r\n'-Bob,-1200\r\n'@Eve,-0.01\r\n'=1+1,\r\n"
    assert csv_text(["=h"], []) == "'=h\r\n"  # the header too


def test_a_readers_formula_name_is_neutralised_in_the_statements_csv_from_the_api(client: Any,
                                                                                   db_session: Any) -> None:
    reader = ReaderFactory(name=PAYLOAD, email="formula@example.org")
    PaymentFactory(reader_id=reader.id, gross_minor=2500, fee_minor=0, stream=Stream.ONE_TIME_DONATION,
                   currency="USD", paid_at=datetime(2026, 3, 1, 12, tzinfo=UTC), benefit_value_minor=0)
    db.session.commit()
    resp = client.get("/api/staff/reports/donors/statements?year=2026&format=csv", headers=bearer(StaffRole.FINANCE))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    [mine] = [r for r in rows if r["email"] == "formula@example.org"]
    assert mine["name"] == "'" + PAYLOAD
    assert mine["paid_minor"] == "2500"  # numbers as they were
    for row in rows:
        assert not any(cell.startswith(DANGEROUS_PREFIXES) for cell in row.values()), row


def test_the_journal_export_neutralises_a_name_and_keeps_negative_amounts_numeric(client: Any,
                                                                                   db_session: Any) -> None:
    """The QuickBooks Name column is the reader's name; Xero's signed amounts are numbers."""
    _charge(Stream.ONE_TIME_DONATION, 5000, 175, datetime(2026, 3, 12, 18, tzinfo=UTC), "ch_formula",
            reader_name=PAYLOAD)
    db.session.commit()
    finance = bearer(StaffRole.FINANCE)
    quickbooks = client.get(f"{URL}&format=csv&target=quickbooks&currency=USD", headers=finance)
    assert quickbooks.status_code == 200, quickbooks.get_data(as_text=True)
    names = {row["Name"] for row in csv.DictReader(io.StringIO(quickbooks.get_data(as_text=True)))}
    assert names == {"'" + PAYLOAD}
    xero = client.get(f"{URL}&format=csv&target=xero&currency=USD", headers=finance)
    amounts = [row["Amount"] for row in csv.DictReader(io.StringIO(xero.get_data(as_text=True)))]
    assert amounts == ["48.25", "1.75", "-50.00"]
