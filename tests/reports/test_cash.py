"""The monthly cash summary against a hand-computed table. Rows are posted through the
real journal postings (post_charge, post_reversal, post_payout) with Payment rows from
the factories, so the journal is what production writes. Outlet zone America/Los_Angeles.

Readers A, B, C. Balance transactions (amount / fee / net):
  USD membership  ch1 A  1000 /   59 /   941  Feb 10          -> Feb
                  (February is then closed)
                  ch2 B  2000 /   88 /  1912  Feb 25 (closed)  -> Mar (first open month)
                  ch3 A  1000 /   59 /   941  Mar 10          -> Mar
                  refund of ch3       -400 / 0 /  -400  Mar 20 -> Mar
                  refund of ch2      -2000 / 0 / -2000  Mar 22 -> Mar
                  that refund failed +2000 / 0 / +2000  Mar 25 -> Mar
                  ch7 A  1000 /   59 /   941  May 5           -> May (outside the range)
  USD one-time    ch4 C  5000 /  175 /  4825  Mar 5           -> Mar
    donation      dispute withdrawal -5000 / 1500 / -6500  Mar 12 -> Mar
                  dispute reinstated +5000 /    0 / +5000  Apr 2  -> Apr
  EUR membership  ch5 B  1500 /   50 /  1450  Apr 1 05:00 UTC = Mar 31 in LA -> Mar
                  ch6 B  1500 /   50 /  1450  Apr 10          -> Apr
  A USD payout of 3000 on Mar 28 (kind payout: not a sale, must not count).

Range [2026-02-01, 2026-05-01). Cells (gross, refunds, disputes, reversals, net sales,
fees, net received | charges, refunds, failures, disputes, reinstatements, payers):
  Feb USD membership  1000,   0,    0,    0, 1000,   59,   941 | 1, 0, 0, 0, 0, 1
  Mar EUR membership  1500,   0,    0,    0, 1500,   50,  1450 | 1, 0, 0, 0, 0, 1
  Mar USD membership  3000, 400,    0,    0, 2600,  147,  2453 | 2, 2, 1, 0, 0, 2
      (refunds 400 + 2000 - 2000; clearing 1912 + 941 - 400 - 2000 + 2000 = 2453)
  Mar USD one-time    5000,   0, 5000,    0,    0, 1675, -1675 | 1, 0, 0, 1, 0, 1
      (fees 175 processor + 1500 dispute; clearing 4825 - 6500)
  Apr EUR membership  1500,   0,    0,    0, 1500,   50,  1450 | 1, 0, 0, 0, 0, 1
  Apr USD one-time       0,   0,    0, 5000, 5000,    0,  5000 | 0, 0, 0, 0, 1, 0
Totals: USD 9000, 400, 5000, 5000, 8600, 1881, 6719 | 4, 2, 1, 1, 1, payers 3 (A, B, C)
        EUR 3000, 0, 0, 0, 3000, 100, 2900 | 2, 0, 0, 0, 0, payers 1 (B twice: distinct)
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from membership.billing.models import Payment
from membership.enums import StaffRole, Stream
from membership.extensions import db
from membership.ledger.models import Account, ClosedPeriod, JournalTransaction, LedgerEntry
from membership.ledger.postings import Movement, ServiceLine, post_charge, post_payout, post_reversal
from membership.reports.cash import FIGURES, CashSummary, cash_summary
from membership.staff.services import create_staff_user
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.readers.helpers import unique_email

FEB, MAR, APR, MAY = (date(2026, m, 1) for m in (2, 3, 4, 5))
RANGE = "start=2026-02-01&end=2026-05-01"
URL = "/api/staff/reports/cash-summary"
M, D = Stream.MEMBERSHIP.value, Stream.ONE_TIME_DONATION.value

# (gross, refunds, disputes, reversals, net sales, fees, net received,
#  charges, refunds, failures, disputes, reinstatements, payers)
EXPECTED_CELLS = {
    (FEB, M, "USD"): (1000, 0, 0, 0, 1000, 59, 941, 1, 0, 0, 0, 0, 1),
    (MAR, M, "EUR"): (1500, 0, 0, 0, 1500, 50, 1450, 1, 0, 0, 0, 0, 1),
    (MAR, M, "USD"): (3000, 400, 0, 0, 2600, 147, 2453, 2, 2, 1, 0, 0, 2),
    (MAR, D, "USD"): (5000, 0, 5000, 0, 0, 1675, -1675, 1, 0, 0, 1, 0, 1),
    (APR, M, "EUR"): (1500, 0, 0, 0, 1500, 50, 1450, 1, 0, 0, 0, 0, 1),
    (APR, D, "USD"): (0, 0, 0, 5000, 5000, 0, 5000, 0, 0, 0, 0, 1, 0),
}
EXPECTED_TOTALS = {
    "EUR": (3000, 0, 0, 0, 3000, 100, 2900, 2, 0, 0, 0, 0, 1),
    "USD": (9000, 400, 5000, 5000, 8600, 1881, 6719, 4, 2, 1, 1, 1, 3),
}
SHOWN = ("gross_charges_minor", "refunds_minor", "disputes_minor", "dispute_reversals_minor", "net_sales_minor",
         "fees_minor", "net_received_minor", "charge_count", "refund_count", "refund_failure_count",
         "dispute_count", "dispute_reversal_count", "unique_payers")


def _at(month: int, day: int, hour: int = 18) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _charge(reader_id: int, stream: Stream, gross: int, fee: int, currency: str, paid_at: datetime) -> Payment:
    payment = PaymentFactory(reader_id=reader_id, stream=stream, gross_minor=gross, fee_minor=fee,
                             net_minor=gross - fee, currency=currency, paid_at=paid_at)
    service = [ServiceLine(gross, paid_at, paid_at + timedelta(days=30))] if stream is Stream.MEMBERSHIP else []
    post_charge(payment, service)
    return payment


def _back(payment: Payment, key: str, kind: str, money: tuple[int, int], at: datetime) -> None:
    """A refund / refund failure / dispute movement: (amount, fee), net = amount - fee."""
    amount, fee = money
    refund = kind.startswith("refund")
    post_reversal(payment, Movement(f"txn_{key}", amount, fee, amount - fee, payment.currency, at),
                  key=f"{kind}:{key}", kind=kind, contra=Account.REFUNDS if refund else Account.CHARGEBACKS,
                  fee_account=Account.PROCESSOR_FEES if refund else Account.DISPUTE_FEES)


@pytest.fixture
def journal(db_session: Any) -> None:
    _post_the_table()


def _post_the_table() -> None:
    a, b, c = (ReaderFactory().id for _ in range(3))
    _charge(a, Stream.MEMBERSHIP, 1000, 59, "USD", _at(2, 10))
    db.session.add(ClosedPeriod(period=FEB, closed_by="finance@example.org"))
    db.session.flush()
    ch2 = _charge(b, Stream.MEMBERSHIP, 2000, 88, "USD", _at(2, 25))
    ch3 = _charge(a, Stream.MEMBERSHIP, 1000, 59, "USD", _at(3, 10))
    _back(ch3, "re3", "refund", (-400, 0), _at(3, 20))
    _back(ch2, "re2", "refund", (-2000, 0), _at(3, 22))
    _back(ch2, "re2", "refund_failure", (2000, 0), _at(3, 25))
    _charge(a, Stream.MEMBERSHIP, 1000, 59, "USD", _at(5, 5))
    ch4 = _charge(c, Stream.ONE_TIME_DONATION, 5000, 175, "USD", _at(3, 5))
    _back(ch4, "du4a", "dispute", (-5000, 1500), _at(3, 12))
    _back(ch4, "du4b", "dispute_reversal", (5000, 0), _at(4, 2))
    _charge(b, Stream.MEMBERSHIP, 1500, 50, "EUR", _at(4, 1, hour=5))
    _charge(b, Stream.MEMBERSHIP, 1500, 50, "EUR", _at(4, 10))
    post_payout("po_mar", 3000, "USD", _at(3, 28), {Stream.MEMBERSHIP: 3000})
    db.session.commit()  # a refused request (401) rolls back the session it shares with the test


def _row(figures: Any) -> tuple[int, ...]:
    return tuple(getattr(figures, name) for name in SHOWN)


def test_cells_and_totals_match_the_hand_computed_table(journal: None) -> None:
    report = cash_summary(FEB, MAY)
    assert {(c.period, c.stream, c.currency): _row(c.figures) for c in report.cells} == EXPECTED_CELLS
    assert [(c.period, c.stream, c.currency) for c in report.cells] == sorted(EXPECTED_CELLS)
    assert {t.currency: _row(t.figures) for t in report.totals} == EXPECTED_TOTALS
    march_donations = next(c.figures for c in report.cells if (c.period, c.stream) == (MAR, D))
    assert (march_donations.processor_fees_minor, march_donations.dispute_fees_minor) == (175, 1500)


def test_the_late_february_charge_is_booked_in_march(journal: None) -> None:
    """Feb 25 happened in a closed month: it is March's (period), not February's."""
    feb_charges = db.session.scalars(select(JournalTransaction.occurred_at).where(
        JournalTransaction.kind == "charge", JournalTransaction.period == MAR,
        JournalTransaction.occurred_at < datetime(2026, 3, 1, tzinfo=UTC))).all()
    assert len(feb_charges) == 1
    assert [(c.period, c.figures.gross_charges_minor, c.figures.charge_count)
            for c in cash_summary(FEB, MAR).cells] == [(FEB, 1000, 1)]  # only ch1 in February


def test_net_received_is_net_sales_less_fees_and_ties_to_the_clearing_entries(journal: None) -> None:
    report = cash_summary(FEB, MAY)
    for f in [c.figures for c in report.cells] + [t.figures for t in report.totals]:
        assert f.net_sales_minor == (f.gross_charges_minor - f.refunds_minor - f.disputes_minor
                                     + f.dispute_reversals_minor)
        assert f.net_received_minor == f.net_sales_minor - f.fees_minor
    assert {t.currency: t.figures.net_received_minor for t in report.totals} == _clearing_by_currency(report)


def _clearing_by_currency(report: CashSummary) -> dict[str, int]:
    """Independently: the clearing entries of every sales group in the range's periods."""
    rows = db.session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount_minor))
        .join(JournalTransaction, JournalTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account == Account.STRIPE_CLEARING, JournalTransaction.kind != "payout",
               JournalTransaction.period >= report.start, JournalTransaction.period < report.end)
        .group_by(LedgerEntry.currency))
    return {currency: int(total) for currency, total in rows}


def test_only_periods_starting_inside_the_range(journal: None) -> None:
    """From Mar 2: March's first day is outside, so only April is reported."""
    report = cash_summary(date(2026, 3, 2), MAY)
    assert {c.period for c in report.cells} == {APR}
    assert cash_summary(date(2026, 6, 1), date(2026, 7, 1)) == CashSummary(date(2026, 6, 1), date(2026, 7, 1), [], [])


def test_cash_summary_api_json_and_csv(client: Any, journal: None) -> None:
    assert client.get(f"{URL}?{RANGE}").status_code == 401
    _user, token = create_staff_user(unique_email("cash"), StaffRole.FINANCE)
    db.session.commit()
    staff = {"Authorization": f"Bearer {token}"}
    body = client.get(f"{URL}?{RANGE}", headers=staff).get_json()
    assert (body["report"], body["version"], body["start"], body["end"]) == ("cash-summary", 1, "2026-02-01",
                                                                             "2026-05-01")
    assert {(date.fromisoformat(c["period"]), c["stream"], c["currency"]): tuple(c[k] for k in SHOWN)
            for c in body["cells"]} == EXPECTED_CELLS
    assert {t["currency"]: tuple(t[k] for k in SHOWN) for t in body["totals"]} == EXPECTED_TOTALS
    response = client.get(f"{URL}?{RANGE}&format=csv", headers=staff)
    assert response.headers["X-Report"] == "cash-summary/1"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == ["period", "stream", "currency", *FIGURES]
    assert [(r["period"], r["stream"], r["currency"], r["net_received_minor"]) for r in rows] == [
        ("2026-02-01", M, "USD", "941"), ("2026-03-01", M, "EUR", "1450"), ("2026-03-01", M, "USD", "2453"),
        ("2026-03-01", D, "USD", "-1675"), ("2026-04-01", M, "EUR", "1450"), ("2026-04-01", D, "USD", "5000"),
        ("total", "total", "EUR", "2900"), ("total", "total", "USD", "6719")]
    assert client.get(f"{URL}?start=2026-05-01&end=2026-02-01", headers=staff).status_code == 422


def test_same_figures_on_sqlite(sqlite_app: Flask) -> None:
    """The embedded default runs the same GROUP BY queries (no dialect-only SQL)."""
    _post_the_table()
    report = cash_summary(FEB, MAY)
    assert {(c.period, c.stream, c.currency): _row(c.figures) for c in report.cells} == EXPECTED_CELLS
    assert {t.currency: _row(t.figures) for t in report.totals} == EXPECTED_TOTALS
