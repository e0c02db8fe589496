"""Deferred revenue roll-forward and recognition waterfall against a hand-computed table.

Outlet zone America/Los_Angeles; every event at 20:00 UTC (same local day). Charges go
through `post_charge`, reversals through `post_reversal`, recognition through
`recognize_through` (the nightly task's function), in this order:

  Jan 15  USD annual 36500 [2026-01-15, 2027-01-15): 365 days, 100 a day
  Jan 31  recognise: annual 17 days = 1700
  Feb 10  USD monthly 1000 [Feb 10, Mar 10): 28 days
  Feb 28  recognise: annual 28 days = 2800; monthly 1000*19//28 = 678          -> 3478
  Mar  5  EUR monthly 900 [Mar 5, Apr 5): 31 days
  Mar 10  USD monthly 1000 [Mar 10, Apr 10): 31 days
  Mar 20  refund 3650 of the annual. Net becomes 32850 = 90 a day. Recognised so far
          45 days: 4500 -> 90*45 = 4050, so 450 goes to `refunds`, 3200 clears deferred
  Mar 31  recognise: annual 90*76 - 4050 = 2790; Feb monthly 322; Mar monthly
          1000*22//31 = 709                                                      -> 3821
          EUR 900*27//31 = 783
  Apr  2  EUR dispute 900 (fee 1500): recognised 783 -> chargebacks, 117 clears deferred
  Apr 20  EUR dispute reinstated: 783 and 117 come back
  Apr 30  recognise: annual 90*106 - 6840 = 2700; Mar monthly 291               -> 2991
          EUR 117

Roll-forward Jan..Apr (owed, positive):
  USD  month  opening  deferred  recognised  refunded  disputed  closing
       Jan          0     36500        1700         0         0    34800
       Feb      34800      1000        3478         0         0    32322
       Mar      32322      1000        3821      3200         0    26301
       Apr      26301         0        2991         0         0    23310  (= 32850 - 90*106)
  EUR  Mar          0       900         783         0         0      117
       Apr        117         0         117         0   117-117        0

Waterfall, billing months Jan..Apr (cells net of reversals):
  USD Jan  billed 36500 reversed 3650 net 32850: Jan 1530 (17*90), Feb 2520, Mar 2790,
           Apr 2700, May 2790, Jun 2700, Jul 2790, Aug 2790, Sep 2700, Oct 2790, Nov 2700,
           Dec 2790, Jan 2027 1260 (14*90)
  USD Feb  1000: Feb 678, Mar 322          USD Mar  1000: Mar 709, Apr 291
  EUR Mar  900 (reversed 0 after the reinstatement): Mar 783, Apr 117
Against the recognition journal (USD Jan 1700, Feb 3478, Mar 3821, Apr 2991): March and
April columns equal it; Jan + Feb columns (1530 + 3198 = 4728) are the journal's 5178
less the 450 the refund took back from recognised revenue (the waterfall restates, the
journal books the difference to `refunds` in March).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from membership.billing.models import Payment
from membership.enums import StaffRole, Stream
from membership.extensions import db
from membership.ledger.journal import credit, debit, post
from membership.ledger.models import Account, JournalTransaction, LedgerEntry
from membership.ledger.postings import Movement, ServiceLine, post_charge, post_reversal
from membership.ledger.recognition import recognize_through
from membership.ledger.services import deferred_by_schedules, trial_balance
from membership.reports.deferred import MonthRollForward, roll_forward, waterfall
from membership.staff.services import create_staff_user
from tests.factories.billing import PaymentFactory
from tests.readers.helpers import unique_email

JAN, FEB, MAR, APR, MAY = (date(2026, m, 1) for m in range(1, 6))
ANNUAL_CELLS = dict(zip([date(2026, m, 1) for m in range(1, 13)] + [date(2027, 1, 1)],
                        [1530, 2520, 2790, 2700, 2790, 2700, 2790, 2790, 2700, 2790, 2700, 2790, 1260], strict=True))
FIELDS = ("opening_minor", "deferred_minor", "recognized_minor", "refunded_minor", "disputed_minor", "closing_minor")


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 20, tzinfo=UTC)


def paid(currency: str, gross: int, when: datetime, until: datetime) -> Payment:
    payment = PaymentFactory(stream=Stream.MEMBERSHIP, gross_minor=gross, fee_minor=0, net_minor=gross,
                             currency=currency, paid_at=when, service_period_start=when, service_period_end=until)
    post_charge(payment, [ServiceLine(gross, when, until)])
    return payment


def reversal(payment: Payment, txn: str, amount: int, fee: int, when: datetime, kind: str) -> None:
    disputes = kind.startswith("dispute")
    post_reversal(payment, Movement(txn, amount, fee, amount - fee, payment.currency, when), key=f"{kind}:{txn}",
                  kind=kind, contra=Account.CHARGEBACKS if disputes else Account.REFUNDS,
                  fee_account=Account.DISPUTE_FEES if disputes else Account.PROCESSOR_FEES)


def history(*, refund: bool = True, reinstate: bool = True) -> None:
    """The table in the module docstring (optionally without the refund / reinstatement)."""
    annual = paid("USD", 36500, at(1, 15), at(1, 15, 2027))
    recognize_through(date(2026, 1, 31))
    paid("USD", 1000, at(2, 10), at(3, 10))
    recognize_through(date(2026, 2, 28))
    eur = paid("EUR", 900, at(3, 5), at(4, 5))
    paid("USD", 1000, at(3, 10), at(4, 10))
    if refund:
        reversal(annual, "txn_re", -3650, 0, at(3, 20), "refund")
    recognize_through(date(2026, 3, 31))
    reversal(eur, "txn_du", -900, 1500, at(4, 2), "dispute")
    if reinstate:
        reversal(eur, "txn_du_back", 900, -1500, at(4, 20), "dispute_reversal")
    recognize_through(date(2026, 4, 30))


def table(rows: list[MonthRollForward], currency: str) -> dict[date, tuple[int, ...]]:
    return {r.period: tuple(getattr(r, f) for f in FIELDS) for r in rows if r.currency == currency}


def recognition_journal(currency: str) -> dict[date, int]:
    """Period -> membership revenue the recognition groups credited (read from the journal)."""
    out: dict[date, int] = defaultdict(int)
    for period, amount in db.session.execute(
            select(JournalTransaction.period, LedgerEntry.amount_minor)
            .join(JournalTransaction, JournalTransaction.id == LedgerEntry.transaction_id)
            .where(JournalTransaction.kind == "recognition", LedgerEntry.currency == currency,
                   LedgerEntry.account == Account.MEMBERSHIP_REVENUE)):
        out[period] -= amount
    return dict(out)


def column(report: Any, currency: str, month: date) -> int:
    return sum(row.cells.get(month, 0) for row in report.rows if row.currency == currency)


def test_roll_forward_matches_the_hand_computed_table(db_session: Any) -> None:
    history()
    rows = roll_forward(JAN, MAY)
    assert table(rows, "USD") == {JAN: (0, 36500, 1700, 0, 0, 34800), FEB: (34800, 1000, 3478, 0, 0, 32322),
                                  MAR: (32322, 1000, 3821, 3200, 0, 26301), APR: (26301, 0, 2991, 0, 0, 23310)}
    assert table(rows, "EUR") == {JAN: (0,) * 6, FEB: (0,) * 6, MAR: (0, 900, 783, 0, 0, 117),
                                  APR: (117, 0, 117, 0, 0, 0)}
    assert {(r.stream, r.other_minor) for r in rows} == {("membership", 0)}


def test_opening_plus_movements_is_closing_and_ties_to_the_journal(db_session: Any) -> None:
    history()
    rows = roll_forward(FEB, MAY)  # February's opening comes from January's postings
    for r in rows:
        assert r.opening_minor + r.deferred_minor - r.recognized_minor - r.refunded_minor - r.disputed_minor \
            + r.other_minor == r.closing_minor
        owed = -trial_balance(r.period, Stream.MEMBERSHIP).get((Account.DEFERRED_REVENUE, r.currency), 0)
        assert r.closing_minor == owed, (r.period, r.currency)
    assert {r.currency: r.closing_minor for r in rows if r.period == APR} == deferred_by_schedules()


def test_a_dispute_clears_deferred_and_its_reinstatement_puts_it_back(db_session: Any) -> None:
    history(reinstate=False)
    (april,) = [r for r in roll_forward(APR, MAY) if r.currency == "EUR"]
    assert (april.opening_minor, april.disputed_minor, april.recognized_minor, april.closing_minor) == (117, 117, 0, 0)
    reversal(db.session.scalars(select(Payment).where(Payment.currency == "EUR")).one(), "txn_du_back", 900, -1500,
             at(4, 20), "dispute_reversal")
    (april,) = [r for r in roll_forward(APR, MAY) if r.currency == "EUR"]
    assert (april.disputed_minor, april.closing_minor) == (0, 117)  # owed again, recognised by the next run


def test_an_unknown_kind_lands_in_other_and_keeps_the_identity(db_session: Any) -> None:
    paid("USD", 1000, at(2, 10), at(3, 10))
    post("adjust:1", "manual_adjustment", at(2, 11), [debit(Account.DEFERRED_REVENUE, 100, "USD", Stream.MEMBERSHIP),
                                                        credit(Account.MEMBERSHIP_REVENUE, 100, "USD", Stream.MEMBERSHIP)])
    (feb,) = roll_forward(FEB, MAR)
    assert (feb.deferred_minor, feb.other_minor, feb.closing_minor) == (1000, -100, 900)


def test_waterfall_rows_cells_and_reversals(db_session: Any) -> None:
    history()
    report = waterfall(JAN, MAY)
    rows = {(r.currency, r.billing_month): r for r in report.rows}
    assert sorted(rows) == [("EUR", MAR), ("USD", JAN), ("USD", FEB), ("USD", MAR)]
    jan = rows[("USD", JAN)]
    assert (jan.billed_minor, jan.reversed_minor, jan.net_minor, jan.lines) == (36500, 3650, 32850, 1)
    assert jan.cells == ANNUAL_CELLS
    assert (jan.recognized_minor, jan.deferred_minor) == (90 * 106, 32850 - 90 * 106)
    assert rows[("USD", FEB)].cells == {FEB: 678, MAR: 322}
    assert rows[("USD", MAR)].cells == {MAR: 709, APR: 291}
    assert (rows[("EUR", MAR)].reversed_minor, rows[("EUR", MAR)].cells) == (0, {MAR: 783, APR: 117})
    for row in report.rows:
        assert sum(row.cells.values()) == row.billed_minor - row.reversed_minor == row.net_minor
    assert report.service_months == sorted(ANNUAL_CELLS)
    assert [r.billing_month for r in waterfall(FEB, MAR).rows] == [FEB]  # only the billing months asked


def test_waterfall_equals_the_recognition_journal(db_session: Any) -> None:
    history(refund=False)
    report, posted = waterfall(JAN, MAY), recognition_journal("USD")
    assert posted == {JAN: 1700, FEB: 3478, MAR: 100 * 31 + 322 + 709, APR: 100 * 30 + 291}
    assert {m: column(report, "USD", m) for m in (JAN, FEB, MAR, APR)} == posted
    assert {m: column(report, "EUR", m) for m in (MAR, APR)} == recognition_journal("EUR") == {MAR: 783, APR: 117}


def test_after_a_refund_the_waterfall_restates_and_the_difference_is_the_refunds_line(db_session: Any) -> None:
    history()
    report, posted = waterfall(JAN, MAY), recognition_journal("USD")
    assert posted == {JAN: 1700, FEB: 3478, MAR: 3821, APR: 2991}
    assert (column(report, "USD", MAR), column(report, "USD", APR)) == (3821, 2991)  # recognised after the refund
    refunds = trial_balance(MAR, Stream.MEMBERSHIP)[(Account.REFUNDS, "USD")]
    assert refunds == 450
    assert column(report, "USD", JAN) + column(report, "USD", FEB) == posted[JAN] + posted[FEB] - refunds == 4728


def late_on_january_31() -> dict[date, int]:
    """Paid 2026-02-01 05:00 UTC = Jan 31 21:00 in Los Angeles, service to Feb 28 21:00 local
    (28 local days): billed in January, 3100*1//28 = 110 in January and 2990 in February
    (in UTC it would wrongly be February's, all 3100 in February)."""
    paid("USD", 3100, datetime(2026, 2, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, 5, tzinfo=UTC))
    (row,) = waterfall(JAN, MAR).rows
    assert row.billing_month == JAN
    return row.cells


def test_months_are_the_outlets(db_session: Any) -> None:
    assert late_on_january_31() == {JAN: 110, FEB: 2990}


def test_same_figures_on_sqlite(sqlite_app: Flask) -> None:
    """SQLite has no time zones: the waterfall groups in Python there (deferred._local)."""
    assert late_on_january_31() == {JAN: 110, FEB: 2990}
    db.session.rollback()
    history()
    db.session.commit()
    rows = {(r.currency, r.billing_month): r for r in waterfall(JAN, MAY).rows}
    assert rows[("USD", JAN)].cells == ANNUAL_CELLS and rows[("USD", MAR)].cells == {MAR: 709, APR: 291}
    assert table(roll_forward(MAR, APR), "USD") == {MAR: (32322, 1000, 3821, 3200, 0, 26301)}


@pytest.fixture
def staff(db_session: Any) -> dict[str, str]:
    history()
    _user, token = create_staff_user(unique_email("fin"), StaffRole.FINANCE)
    db.session.commit()  # a refused request (401/422) rolls back the session it shares with the test
    return {"Authorization": f"Bearer {token}"}


def test_deferred_revenue_api_json_and_csv(client: Any, staff: dict[str, str]) -> None:
    url = "/api/staff/reports/deferred-revenue?start=2026-03-01&end=2026-05-01"
    assert client.get(url).status_code == 401
    assert client.get(url.replace("03-01", "03-02"), headers=staff).status_code == 422  # whole months only
    body = client.get(url, headers=staff).get_json()
    assert (body["report"], body["version"]) == ("deferred-revenue", 1)
    assert [(m["currency"], m["period"], m["closing_minor"]) for m in body["months"]] == [
        ("EUR", "2026-03-01", 117), ("EUR", "2026-04-01", 0), ("USD", "2026-03-01", 26301),
        ("USD", "2026-04-01", 23310)]
    response = client.get(f"{url}&format=csv", headers=staff)
    assert response.headers["X-Report"] == "deferred-revenue/1"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["currency"], r["period"], r["refunded_minor"], r["closing_minor"]) for r in rows][2] == (
        "USD", "2026-03-01", "3200", "26301")


def test_recognition_waterfall_api_json_and_csv(client: Any, staff: dict[str, str]) -> None:
    url = "/api/staff/reports/recognition-waterfall?start=2026-01-01&end=2026-03-01"
    assert client.get(url).status_code == 401
    body = client.get(url, headers=staff).get_json()
    assert (body["report"], body["version"]) == ("recognition-waterfall", 1)
    assert [(r["billing_month"], r["net_minor"]) for r in body["rows"]] == [("2026-01-01", 32850), ("2026-02-01", 1000)]
    assert body["rows"][1]["cells"] == {"2026-02-01": 678, "2026-03-01": 322}
    response = client.get(f"{url}&format=csv", headers=staff)
    assert response.headers["X-Report"] == "recognition-waterfall/1"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["billing_month"], r["reversed_minor"], r["2026-01-01"], r["2026-03-01"], r["2027-01-01"])
            for r in rows] == [("2026-01-01", "3650", "1530", "2790", "1260"), ("2026-02-01", "0", "0", "322", "0")]
