"""Churn and cohorts against a hand-computed population (membership stream; outlet zone
America/Los_Angeles; every movement at 18:00 UTC, i.e. mid-day there). Report months:
January, February and March 2026 (start 2026-01-01, end 2026-04-01).

Readers (MRR in minor units; movements inserted directly as SubscriptionEvent rows):
  A monthly USD 1000: new 2025-12-10; churn_voluntary 2026-02-10
  B annual  USD 1000: new 2025-03-15; paid periods 2025-03-15..2026-03-15 and 2026-03-15..2027-03-15
  C annual  USD  500: new 2025-02-20; paid period 2025-02-20..2026-02-20; churn_delinquent 2026-03-22
  D monthly USD 2000: new 2026-01-10; contraction -500 on 2026-02-15 (paid period Jan 10..Feb 10)
  E monthly USD  800: new 2026-01-08; churn_voluntary 2026-02-08; reactivation 2026-03-12
  F monthly EUR  900: new 2026-02-20; churn_voluntary 2026-03-03; reactivation 2026-03-25

Paying readers at Jan 1: A B C (3: monthly A = 1, annual B C = 2); Feb 1: A B C D E (5:
monthly 3, annual 2); Mar 1: B C D F (4: monthly D F = 2, annual 2); Apr 1: B D E F (4).

Logo churn       Jan           Feb                     Mar
  all            0 of 3  0.0   2 of 5 40.0 (A, E)      1 of 4 25.0 (C; F came back in March)
  voluntary      0 of 3  0.0   2 of 5 40.0             0 of 4  0.0
  delinquent     0 of 3  0.0   0 of 5  0.0             1 of 4 25.0
  monthly plans  0 of 1  0.0   2 of 3 66.7             0 of 2  0.0
  annual plans   0 of 2  0.0   0 of 2  0.0             1 of 2 50.0
Revenue churn USD: Jan start 2500, gross 0 of 2500 "0.0", net 0 of 2500 "0.0";
  Feb start 5300, churn 1800 + contraction 500: gross = net = 2300 of 5300 "43.4";
  Mar start 3000, churn 500, reactivation 800: gross 500 of 3000 "16.7", net -300 of 3000 "-10.0".
Revenue churn EUR: Jan and Feb start 0 (percent null); Mar start 900, churn 900, reactivation
  900: gross 900 of 900 "100.0", net 0 of 900 "0.0".
Annual renewals: Jan none (0 of 0, null); Feb C came up, lapsed (0 of 1 "0.0"); Mar B came up and
  renewed (1 of 1 "100.0"). D's monthly period is not counted.
Cohorts: January = D, E (A, B, C joined earlier); starting MRR USD 2800 (end of January).
  Jan 2 of 2 "100.0", USD 2800 "100.0"; Feb D only: 1 of 2 "50.0", 1500 of 2800 "53.6";
  Mar D and E (E stays in January): 2 of 2 "100.0", 2300 of 2800 "82.1".
  February = F: EUR 900; Feb and Mar 1 of 1 "100.0", 900 of 900 "100.0".
  March: nobody (E's reactivation is not a new cohort): 0 of 0, null.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest

from membership.billing.models import SubscriptionEvent
from membership.enums import Interval, MrrMovement, StaffRole, Stream
from membership.extensions import db
from membership.reports.churn import Rate, churn, cohorts, month_starts, rate
from membership.staff.services import create_staff_user
from tests.factories.billing import PaymentFactory, SubscriptionFactory
from tests.readers.helpers import unique_email

JAN, APR = date(2026, 1, 1), date(2026, 4, 1)
NEW, EXP, CON = MrrMovement.NEW, MrrMovement.EXPANSION, MrrMovement.CONTRACTION
VOL, DEL, REACT = MrrMovement.CHURN_VOLUNTARY, MrrMovement.CHURN_DELINQUENT, MrrMovement.REACTIVATION


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 18, 0, tzinfo=UTC)


def _reader(interval: Interval, currency: str, moves: list[tuple[MrrMovement, int, date]],
            periods: tuple[tuple[date, date], ...] = ()) -> Any:
    """One reader's subscription with its movements and paid service periods."""
    sub = SubscriptionFactory(currency=currency, interval=interval)
    for n, (kind, delta, day) in enumerate(moves):
        db.session.add(SubscriptionEvent(
            subscription_id=sub.id, reader_id=sub.reader_id, kind=kind, stream=Stream.MEMBERSHIP,
            mrr_delta_minor=delta, mrr_after_minor=0, currency=currency, occurred_at=_at(day),
            dedupe_key=f"churn-test:{sub.id}:{n}"))
    for begin, finish in periods:
        PaymentFactory(reader_id=sub.reader_id, subscription_id=sub.id, stream=Stream.MEMBERSHIP, currency=currency,
                       paid_at=_at(begin), service_period_start=_at(begin), service_period_end=_at(finish))
    return sub


@pytest.fixture
def population(db_session: Any) -> None:
    month, year = Interval.MONTH, Interval.YEAR
    _reader(month, "USD", [(NEW, 1000, date(2025, 12, 10)), (VOL, -1000, date(2026, 2, 10))])
    _reader(year, "USD", [(NEW, 1000, date(2025, 3, 15))],
            ((date(2025, 3, 15), date(2026, 3, 15)), (date(2026, 3, 15), date(2027, 3, 15))))
    _reader(year, "USD", [(NEW, 500, date(2025, 2, 20)), (DEL, -500, date(2026, 3, 22))],
            ((date(2025, 2, 20), date(2026, 2, 20)),))
    _reader(month, "USD", [(NEW, 2000, date(2026, 1, 10)), (CON, -500, date(2026, 2, 15))],
            ((date(2026, 1, 10), date(2026, 2, 10)),))
    _reader(month, "USD", [(NEW, 800, date(2026, 1, 8)), (VOL, -800, date(2026, 2, 8)),
                           (REACT, 800, date(2026, 3, 12))])
    _reader(month, "EUR", [(NEW, 900, date(2026, 2, 20)), (VOL, -900, date(2026, 3, 3)),
                           (REACT, 900, date(2026, 3, 25))])
    db.session.commit()  # a refused request (401/422) rolls back the session it shares with the test


def _r(rated: Rate) -> tuple[int, int, str | None]:
    return rated.numerator, rated.denominator, rated.percent


def test_logo_churn_voluntary_delinquent_and_per_plan(population: None) -> None:
    jan, feb, mar = churn(Stream.MEMBERSHIP, JAN, APR).months
    assert [(m.month, m.paying_start, m.paying_end) for m in (jan, feb, mar)] == [
        (date(2026, 1, 1), 3, 5), (date(2026, 2, 1), 5, 4), (date(2026, 3, 1), 4, 4)]
    assert [_r(m.logo_churn) for m in (jan, feb, mar)] == [(0, 3, "0.0"), (2, 5, "40.0"), (1, 4, "25.0")]
    assert [_r(m.voluntary) for m in (jan, feb, mar)] == [(0, 3, "0.0"), (2, 5, "40.0"), (0, 4, "0.0")]
    assert [_r(m.delinquent) for m in (jan, feb, mar)] == [(0, 3, "0.0"), (0, 5, "0.0"), (1, 4, "25.0")]
    assert [_r(m.plans["month"]) for m in (jan, feb, mar)] == [(0, 1, "0.0"), (2, 3, "66.7"), (0, 2, "0.0")]
    assert [_r(m.plans["year"]) for m in (jan, feb, mar)] == [(0, 2, "0.0"), (0, 2, "0.0"), (1, 2, "50.0")]


def test_revenue_churn_per_currency_gross_and_net(population: None) -> None:
    months = churn(Stream.MEMBERSHIP, JAN, APR).months
    eur = [m.revenue[0] for m in months]
    usd = [m.revenue[1] for m in months]
    assert [r.currency for r in months[0].revenue] == ["EUR", "USD"]
    assert [r.mrr_start_minor for r in usd] == [2500, 5300, 3000]
    assert usd[1].movements == {"churn": 1800, "contraction": 500, "expansion": 0, "reactivation": 0}
    assert [_r(r.gross) for r in usd] == [(0, 2500, "0.0"), (2300, 5300, "43.4"), (500, 3000, "16.7")]
    assert [_r(r.net) for r in usd] == [(0, 2500, "0.0"), (2300, 5300, "43.4"), (-300, 3000, "-10.0")]
    assert [r.mrr_start_minor for r in eur] == [0, 0, 900]
    assert [_r(r.gross) for r in eur] == [(0, 0, None), (0, 0, None), (900, 900, "100.0")]
    assert [_r(r.net) for r in eur] == [(0, 0, None), (0, 0, None), (0, 900, "0.0")]


def test_annual_renewals_from_paid_periods(population: None) -> None:
    jan, feb, mar = (m.annual_renewals for m in churn(Stream.MEMBERSHIP, JAN, APR).months)
    assert (jan.came_up, _r(jan.rate)) == (0, (0, 0, None))
    assert (feb.came_up, feb.renewed, feb.lapsed, feb.pending, _r(feb.rate)) == (1, 0, 1, 0, (0, 1, "0.0"))
    assert (mar.came_up, mar.renewed, mar.lapsed, mar.pending, _r(mar.rate)) == (1, 1, 0, 0, (1, 1, "100.0"))


def test_cohorts_logo_and_net_mrr_retention(population: None) -> None:
    jan, feb, mar = cohorts(Stream.MEMBERSHIP, JAN, APR).cohorts
    assert (jan.cohort, jan.readers, jan.starting_mrr_minor) == (date(2026, 1, 1), 2, {"USD": 2800})
    assert [(m.age, _r(m.logo_retention)) for m in jan.months] == [(0, (2, 2, "100.0")), (1, (1, 2, "50.0")),
                                                                   (2, (2, 2, "100.0"))]
    assert [_r(m.net_mrr_retention["USD"]) for m in jan.months] == [(2800, 2800, "100.0"), (1500, 2800, "53.6"),
                                                                    (2300, 2800, "82.1")]
    assert (feb.readers, feb.starting_mrr_minor, [m.month for m in feb.months]) == (
        1, {"EUR": 900}, [date(2026, 2, 1), date(2026, 3, 1)])
    assert [(_r(m.logo_retention), _r(m.net_mrr_retention["EUR"])) for m in feb.months] == [
        ((1, 1, "100.0"), (900, 900, "100.0"))] * 2
    assert (mar.readers, [_r(m.logo_retention) for m in mar.months]) == (0, [(0, 0, None)])


def test_rates_and_month_boundaries() -> None:
    assert _r(rate(1, 3)) == (1, 3, "33.3") and _r(rate(2, 3)) == (2, 3, "66.7") and _r(rate(5, 0)) == (5, 0, None)
    assert month_starts(date(2025, 11, 1), date(2026, 2, 1)) == [date(2025, 11, 1), date(2025, 12, 1),
                                                                 date(2026, 1, 1), date(2026, 2, 1)]


def _finance() -> dict[str, str]:
    _user, token = create_staff_user(unique_email("churn"), StaffRole.FINANCE)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_churn_api_answers_json_and_csv(client: Any, population: None) -> None:
    url = "/api/staff/reports/churn?start=2026-01-01&end=2026-04-01&stream=membership"
    assert client.get(url).status_code == 401
    headers = _finance()
    body = client.get(url, headers=headers).get_json()
    assert (body["report"], body["version"], len(body["months"])) == ("churn", 1, 3)
    assert body["months"][1]["logo_churn"] == {"numerator": 2, "denominator": 5, "percent": "40.0"}
    as_csv = client.get(url + "&format=csv", headers=headers)
    assert as_csv.mimetype == "text/csv" and as_csv.headers["X-Report"] == "churn/1"
    rows = _csv(as_csv)
    assert [r["month"] for r in rows] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert (rows[2]["delinquent"], rows[2]["delinquent_of"], rows[2]["delinquent_pct"]) == ("1", "4", "25.0")
    assert (rows[2]["USD_net_churn_minor"], rows[2]["USD_net_churn_minor_pct"], rows[0]["EUR_gross_churn_minor_pct"]) \
        == ("-300", "-10.0", "")
    assert (rows[1]["renewals_lapsed"], rows[2]["renewed"], rows[2]["renewed_of"]) == ("1", "1", "1")


def test_the_cohorts_api_answers_json_and_csv(client: Any, population: None) -> None:
    url = "/api/staff/reports/cohorts?start=2026-01-01&end=2026-04-01"
    assert client.get(url).status_code == 401
    headers = _finance()
    body = client.get(url, headers=headers).get_json()
    assert (body["report"], body["stream"], [c["readers"] for c in body["cohorts"]]) == ("cohorts", "membership",
                                                                                          [2, 1, 0])
    as_csv = client.get(url + "&format=csv", headers=headers)
    assert as_csv.headers["X-Report"] == "cohorts/1"
    rows = _csv(as_csv)
    assert [(r["cohort"], r["month"], r["retained"], r["retained_of"]) for r in rows] == [
        ("2026-01-01", "2026-01-01", "2", "2"), ("2026-01-01", "2026-02-01", "1", "2"),
        ("2026-01-01", "2026-03-01", "2", "2"), ("2026-02-01", "2026-02-01", "1", "1"),
        ("2026-02-01", "2026-03-01", "1", "1"), ("2026-03-01", "2026-03-01", "0", "0")]
    assert (rows[1]["USD_mrr_minor"], rows[1]["USD_net_mrr_retention_pct"], rows[4]["EUR_net_mrr_retention_pct"]) == (
        "1500", "53.6", "100.0")


@pytest.mark.parametrize("query", ["start=2026-01-02&end=2026-04-01", "start=2026-01-01&end=2026-03-31",
                                   "start=2026-01-01&end=2026-01-01", "start=2026-01-01&end=2026-04-01&stream=other",
                                   "start=2020-01-01&end=2026-01-01"])
def test_periods_that_are_not_whole_months_are_a_422(client: Any, population: None, query: str) -> None:
    headers = _finance()
    for name in ("churn", "cohorts"):
        assert client.get(f"/api/staff/reports/{name}?{query}", headers=headers).status_code == 422, (name, query)
