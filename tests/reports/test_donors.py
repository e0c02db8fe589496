"""The donors report and the year-end statements CSV against a hand-computed population
(outlet zone America/Los_Angeles). Period 2026, previous period 2025, earlier = 2024.

USD readers (amounts in cents; "rec" = recurring_donation, else one_time_donation):
  A  2025: 5000            2026: 2000 rec, 2000 rec            -> retained
  B  2025: 3000            2026: -                             -> lapsed
  C  2024: 1000            2026: 4000                          -> reactivated
  D  2026: 10000 (benefit 1500) + a 12000 membership payment (benefit 2000) -> new;
     the membership is no gift
  E  2025: 2500            2026: 7000 fully refunded           -> lapsed (not a 2026 donor)
  F  2026: 6000 with a 1000 partial refund (gift = 5000)       -> new
  G  2026: 3000, dispute lost                                  -> not a donor
  H  2026: membership 9000 only                                -> not a donor
  M  2027-02-01: 9999                                          -> after the period
  2026 gifts 2000, 2000, 4000, 5000, 10000: 5 gifts, gross 23000, recurring 4000 of 23000 = "17.4",
  average 4600, median 4000 (odd count), benefit 1500, deductible 21500.
  donors A C D F = 4; new D F = 2; retained A = 1; reactivated C = 1; lapsed B E = 2;
  previous donors A B E = 3 (3 - 2 + 2 + 1 = 4).
EUR readers:
  A  2026: 1001 rec (first EUR gift)                           -> new in EUR
  J  2025: 1500            2026: 2000, 1000                    -> retained
  K  2026-01-01 07:30 UTC = 31 Dec 2025 23:30 in LA             -> a 2025 donor: lapsed
  L  2027-01-01 07:30 UTC = 31 Dec 2026 23:30 in LA: 2500       -> new (2026 in the outlet's zone)
  2026 gifts 1000, 1001, 2000, 2500: gross 6501, recurring 1001 of 6501 = 15.397% -> "15.4",
  average 1625.25 -> 1625, median (1001 + 2000) / 2 = 1500.5 -> 1501 (half up), deductible 6501.
  donors A J L = 3; new A L = 2; retained J = 1; reactivated 0; lapsed K = 1; previous J K = 2.
Year-end statements 2026 (the mail's rules: memberships count, refunds net, a lost dispute is no gift):
  D USD: 10000 + 12000 = 22000 paid, benefit 1500 + 2000 = 3500, deductible 18500, 2 payments.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask

from membership.billing.models import Dispute, Refund
from membership.billing.notices.statements import find_year_end_statements
from membership.enums import StaffRole, Stream
from membership.extensions import db
from membership.mail.models import Notice
from membership.mail.render import render_notice
from membership.reports.donors import CurrencyDonors, DonorReport, Share, donors, previous_period, statements
from membership.staff.services import create_staff_user
from tests.factories.billing import PaymentFactory
from tests.factories.readers import ReaderFactory
from tests.readers.helpers import unique_email

Y2026 = "start=2026-01-01&end=2027-01-01"
REC, ONE, MEMBER = Stream.RECURRING_DONATION, Stream.ONE_TIME_DONATION, Stream.MEMBERSHIP

EXPECTED = [
    CurrencyDonors("EUR", donors=3, new=2, retained=1, reactivated=0, lapsed=1, previous_donors=2, gifts=4,
                   gross_minor=6501, benefit_minor=0, deductible_minor=6501, recurring_share=Share(1001, 6501, "15.4"),
                   average_gift_minor=1625, median_gift_minor=1501),
    CurrencyDonors("USD", donors=4, new=2, retained=1, reactivated=1, lapsed=2, previous_donors=3, gifts=5,
                   gross_minor=23000, benefit_minor=1500, deductible_minor=21500,
                   recurring_share=Share(4000, 23000, "17.4"), average_gift_minor=4600, median_gift_minor=4000),
]


def _at(y: int, m: int, d: int, hour: int = 18, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=UTC)


def _pay(reader: Any, gross: int, at: datetime, stream: Stream = ONE, currency: str = "USD",
         benefit: int = 0) -> Any:
    return PaymentFactory(reader_id=reader.id, gross_minor=gross, fee_minor=0, stream=stream, currency=currency,
                          paid_at=at, benefit_value_minor=benefit)


def build_population() -> dict[str, Any]:
    """The readers of the docstring's table; returns them by letter."""
    r = {k: ReaderFactory() for k in "ABCDEFGHMJKL"}
    _pay(r["A"], 5000, _at(2025, 5, 1))
    _pay(r["A"], 2000, _at(2026, 3, 1), REC)
    _pay(r["A"], 2000, _at(2026, 4, 1), REC)
    _pay(r["B"], 3000, _at(2025, 6, 1))
    _pay(r["C"], 1000, _at(2024, 7, 1))
    _pay(r["C"], 4000, _at(2026, 7, 1))
    _pay(r["D"], 10000, _at(2026, 2, 1), benefit=1500)
    _pay(r["D"], 12000, _at(2026, 2, 2), MEMBER, benefit=2000)
    _pay(r["E"], 2500, _at(2025, 8, 1))
    refunded, partial = _pay(r["E"], 7000, _at(2026, 8, 1)), _pay(r["F"], 6000, _at(2026, 9, 1))
    disputed = _pay(r["G"], 3000, _at(2026, 10, 1))
    _pay(r["H"], 9000, _at(2026, 5, 1), MEMBER)
    _pay(r["M"], 9999, _at(2027, 2, 1))
    _pay(r["A"], 1001, _at(2026, 6, 1), REC, "EUR")
    _pay(r["J"], 1500, _at(2025, 3, 1), currency="EUR")
    _pay(r["J"], 2000, _at(2026, 3, 1), currency="EUR")
    _pay(r["J"], 1000, _at(2026, 11, 1), currency="EUR")
    _pay(r["K"], 1800, _at(2026, 1, 1, 7, 30), currency="EUR")
    _pay(r["L"], 2500, _at(2027, 1, 1, 7, 30), currency="EUR")
    db.session.add_all([
        Refund(payment_id=refunded.id, stripe_refund_id="re_full", amount_minor=7000, currency="USD",
               status="succeeded"),
        Refund(payment_id=partial.id, stripe_refund_id="re_part", amount_minor=1000, currency="USD",
               status="succeeded"),
        Refund(payment_id=partial.id, stripe_refund_id="re_failed", amount_minor=5000, currency="USD",
               status="failed"),
        Dispute(payment_id=disputed.id, stripe_dispute_id="du_lost", amount_minor=3000, currency="USD",
                status="lost"),
    ])
    db.session.flush()
    return r


@pytest.fixture
def population(db_session: Any) -> dict[str, Any]:
    readers = build_population()
    db.session.commit()  # a refused request (401/422) rolls back the session it shares with the test
    return readers


@pytest.fixture
def staff(population: dict[str, Any]) -> dict[str, str]:
    _user, token = create_staff_user(unique_email("fin"), StaffRole.FINANCE)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_previous_period_is_as_many_calendar_months_before() -> None:
    assert previous_period(date(2026, 1, 1), date(2027, 1, 1)) == (date(2025, 1, 1), date(2026, 1, 1))
    assert previous_period(date(2025, 1, 1), date(2025, 3, 1)) == (date(2024, 11, 1), date(2025, 1, 1))
    assert previous_period(date(2024, 3, 1), date(2024, 4, 1)) == (date(2024, 2, 1), date(2024, 3, 1))


def test_donors_of_2026_against_2025(population: dict[str, Any]) -> None:
    assert donors(date(2026, 1, 1), date(2027, 1, 1)) == DonorReport(
        date(2026, 1, 1), date(2027, 1, 1), date(2025, 1, 1), date(2026, 1, 1), EXPECTED)


def test_one_month_against_the_month_before(population: dict[str, Any]) -> None:
    """March 2026 against February: A (2000 rec) and J (2000 EUR) give in March; D gave in
    February only (the membership next day is no gift), so D lapsed; A and J gave in 2025,
    not in February: both reactivated."""
    usd, eur = _by_currency(donors(date(2026, 3, 1), date(2026, 4, 1)))
    assert (usd.donors, usd.new, usd.retained, usd.reactivated, usd.lapsed, usd.previous_donors) == (1, 0, 0, 1, 1, 1)
    assert (usd.gross_minor, usd.recurring_share.percent, usd.median_gift_minor) == (2000, "100.0", 2000)
    assert (eur.donors, eur.reactivated, eur.lapsed, eur.recurring_share.percent) == (1, 1, 0, "0.0")


def test_a_period_without_gifts_keeps_its_lapsed_donors(population: dict[str, Any]) -> None:
    """December 2026 (USD): nobody gave; November had nobody in USD either, so no USD row;
    EUR: J gave in November -> lapsed, and L's gift is 31 Dec local -> new."""
    [eur] = donors(date(2026, 12, 1), date(2027, 1, 1)).currencies
    assert (eur.currency, eur.donors, eur.new, eur.lapsed, eur.gifts) == ("EUR", 1, 1, 1, 1)
    [jan] = donors(date(2027, 2, 1), date(2027, 3, 1)).currencies  # M's gift; January had none
    assert (jan.currency, jan.new, jan.gross_minor) == ("USD", 1, 9999)
    [lapsed_only] = donors(date(2027, 3, 1), date(2027, 4, 1)).currencies
    assert (lapsed_only.donors, lapsed_only.lapsed, lapsed_only.gifts) == (0, 1, 0)
    assert (lapsed_only.average_gift_minor, lapsed_only.median_gift_minor) == (None, None)
    assert lapsed_only.recurring_share == Share(0, 0, None)


def test_the_same_numbers_on_sqlite(sqlite_app: Flask) -> None:
    """The embedded default takes the Python median path (no percentile_cont there)."""
    build_population()
    db.session.commit()
    assert donors(date(2026, 1, 1), date(2027, 1, 1)).currencies == EXPECTED


def test_statements_agree_with_the_mailed_ones(app: Flask, population: dict[str, Any]) -> None:
    rows = {(s.reader_id, s.currency): s for s in statements(2026)}
    assert find_year_end_statements(_at(2027, 1, 15)) == len(rows) == 8
    for notice in db.session.query(Notice).filter_by(kind="year_end_statement"):
        ctx = json.loads(notice.context)
        mine = rows[(ctx["reader_id"], ctx["currency"])]
        assert (mine.paid_minor, mine.benefit_minor, mine.payments) == (ctx["total_minor"], ctx["benefit_minor"],
                                                                      ctx["count"])
        if mine.deductible:
            assert f"Deductible amount: {mine.deductible_amount}" in render_notice(notice, app.config["SETTINGS"]).text
    d = rows[(population["D"].id, "USD")]
    assert (d.payments, d.paid_minor, d.benefit_minor, d.deductible_minor) == (2, 22000, 3500, 18500)
    assert (d.paid, d.benefit_value, d.deductible_amount, d.deductible) == ("$220.00", "$35.00", "$185.00", True)
    assert (population["G"].id, "USD") not in rows  # charged back: no gift to state
    assert (population["E"].id, "USD") not in rows  # fully refunded: nothing to state


def test_donors_api_json_and_csv(client: Any, staff: dict[str, str]) -> None:
    assert client.get(f"/api/staff/reports/donors?{Y2026}").status_code == 401
    assert client.get("/api/staff/reports/donors?start=2026-01-15&end=2027-01-01", headers=staff).status_code == 422
    body = client.get(f"/api/staff/reports/donors?{Y2026}", headers=staff).get_json()
    assert (body["report"], body["version"], body["previous_start"]) == ("donors", 1, "2025-01-01")
    usd = body["currencies"][1]
    assert (usd["currency"], usd["retained"], usd["median_gift_minor"]) == ("USD", 1, 4000)
    assert usd["recurring_share"] == {"numerator_minor": 4000, "denominator_minor": 23000, "percent": "17.4"}
    resp = client.get(f"/api/staff/reports/donors?{Y2026}&format=csv", headers=staff)
    assert resp.headers["X-Report"] == "donors/1"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["currency"], r["donors"], r["lapsed"], r["recurring_percent"], r["median_gift_minor"]) for r in rows] == [
        ("EUR", "3", "1", "15.4", "1501"), ("USD", "4", "2", "17.4", "4000")]


def test_statements_api_csv(client: Any, staff: dict[str, str], population: dict[str, Any]) -> None:
    assert client.get("/api/staff/reports/donors/statements?year=2026&format=csv").status_code == 401
    resp = client.get("/api/staff/reports/donors/statements?year=2026&format=csv", headers=staff)
    assert resp.headers["X-Report"] == "donor-statements/1"
    assert "donor-statements-v1-2026-01-01-2027-01-01.csv" in resp.headers["Content-Disposition"]
    rows = {r["reader_id"]: r for r in csv.DictReader(io.StringIO(resp.get_data(as_text=True)))}
    d = rows[str(population["D"].id)]
    assert (d["currency"], d["paid_minor"], d["benefit_minor"], d["deductible_minor"], d["deductible_amount"]) == (
        "USD", "22000", "3500", "18500", "$185.00")
    body = client.get("/api/staff/reports/donors/statements?year=2026", headers=staff).get_json()
    assert body["count"] == len(body["statements"]) == 8


def _by_currency(report: DonorReport) -> tuple[CurrencyDonors, CurrencyDonors]:
    rows = {c.currency: c for c in report.currencies}
    return rows["USD"], rows["EUR"]
