"""The MRR roll-forward against a hand-computed table (outlet zone America/Los_Angeles).

Movements (membership stream):
  USD  +1000 new Feb 20 (before the period) | +500 new Mar 5 | -200 contraction Mar 10 |
       -300 churn_voluntary Mar 20 | +700 new Apr 2 (after the period)
  EUR  +900 new Mar 3 with 100 of discount MRR
Rates EUR->USD: 1.10 from Mar 1, 1.20 from Mar 15.
Period March 2026 ([Mar 1, Apr 1)):
  USD  start 1000, new 500, contraction -200, churn -300, end 1000
  EUR  start 0, new 900, end 900 (discount MRR 0 -> 100)
  USD converted: start 1000; new 500 + 990 (900 EUR at 1.10 on Mar 3) = 1490;
       contraction -200; churn -300; end 1000 + 1080 (900 EUR at 1.20 on Apr 1) = 2080;
       FX = 2080 - 1000 - 990 = 90.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from membership.enums import MrrMovement, StaffRole, Stream
from membership.extensions import db
from membership.ledger.models import FxRate
from membership.reports.fx import Rate, convert_minor
from membership.reports.mrr_rollforward import roll_forward
from membership.staff.services import create_staff_user
from tests.factories.billing import SubscriptionFactory
from tests.readers.helpers import unique_email

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def _moved(sub: Any, kind: MrrMovement, delta: int, day: tuple[int, int], discount: int = 0) -> None:
    from membership.billing.models import SubscriptionEvent

    db.session.add(SubscriptionEvent(
        subscription_id=sub.id, reader_id=sub.reader_id, kind=kind, stream=Stream.MEMBERSHIP,
        mrr_delta_minor=delta, mrr_after_minor=0, discount_delta_minor=discount, currency=sub.currency,
        occurred_at=datetime(2026, day[0], day[1], 18, 0, tzinfo=UTC), dedupe_key=f"{sub.id}:{kind}:{day}"))


@pytest.fixture
def march(db_session: Any) -> None:
    _build_march()


def _build_march() -> None:
    usd, eur = SubscriptionFactory(currency="USD"), SubscriptionFactory(currency="EUR")
    _moved(usd, MrrMovement.NEW, 1000, (2, 20))
    _moved(usd, MrrMovement.NEW, 500, (3, 5))
    _moved(usd, MrrMovement.CONTRACTION, -200, (3, 10))
    _moved(usd, MrrMovement.CHURN_VOLUNTARY, -300, (3, 20))
    _moved(usd, MrrMovement.NEW, 700, (4, 2))
    _moved(eur, MrrMovement.NEW, 900, (3, 3), discount=100)
    db.session.add_all([FxRate(on_date=date(2026, 3, 1), currency="EUR", base_currency="USD", rate=Decimal("1.10"),
                               source="test"),
                        FxRate(on_date=date(2026, 3, 15), currency="EUR", base_currency="USD",
                               rate=Decimal("1.20"), source="test")])
    db.session.commit()  # a refused request (401) rolls back the session it shares with the test


def test_per_currency_start_plus_movements_is_end(march: None) -> None:
    report = roll_forward(Stream.MEMBERSHIP, MARCH, APRIL)
    eur, usd = report.currencies
    assert (usd.currency, usd.start_minor, usd.end_minor) == ("USD", 1000, 1000)
    assert {k: v for k, v in usd.movements.items() if v} == {"new": 500, "contraction": -200, "churn_voluntary": -300}
    assert (eur.start_minor, eur.movements["new"], eur.end_minor) == (0, 900, 900)
    assert (eur.discount_start_minor, eur.discount_end_minor) == (0, 100)
    for c in report.currencies:
        assert c.start_minor + sum(c.movements.values()) == c.end_minor
    assert report.converted is None


def test_the_same_figures_on_sqlite(sqlite_app: Any) -> None:
    """The embedded default has no time zones in SQL: days are worked out in Python."""
    _build_march()
    converted = roll_forward(Stream.MEMBERSHIP, MARCH, APRIL, "USD").converted
    assert converted is not None
    assert (converted.start_minor, converted.movements["new"], converted.fx_minor, converted.end_minor) == (
        1000, 1490, 90, 2080)


def test_converted_with_an_fx_line_that_closes_exactly(march: None) -> None:
    converted = roll_forward(Stream.MEMBERSHIP, MARCH, APRIL, "USD").converted
    assert converted is not None
    assert (converted.start_minor, converted.fx_minor, converted.end_minor) == (1000, 90, 2080)
    assert {k: v for k, v in converted.movements.items() if v} == {"new": 1490, "contraction": -200,
                                                                   "churn_voluntary": -300}
    assert [(r.on_date, r.rate) for r in converted.rates] == [(date(2026, 3, 1), Decimal("1.10")),
                                                              (date(2026, 3, 15), Decimal("1.20"))]


@pytest.mark.parametrize(("amount", "currency", "base", "rate", "expected"), [
    (12345, "JPY", "USD", "0.0067", 8271),    # 12,345 yen = $82.7115
    (1999, "EUR", "USD", "1.0851", 2169),     # EUR 19.99 = $21.691149
    (1234, "KWD", "USD", "3.25", 401),        # KWD 1.234 = $4.0105 -> half up at the cent
    (1000, "USD", "JPY", "151.5", 1515),      # $10.00 = 1,515 yen
    (-1999, "EUR", "USD", "1.0851", -2169),   # contraction converts like the rest
])
def test_convert_minor_through_major_units(amount: int, currency: str, base: str, rate: str, expected: int) -> None:
    assert convert_minor(amount, Rate(MARCH, currency, base, Decimal(rate), "t")) == expected


def _finance(client: Any) -> dict[str, str]:
    _user, token = create_staff_user(unique_email("fin"), StaffRole.FINANCE)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_answers_json_and_csv_to_any_staff_role(client: Any, march: None) -> None:
    url = "/api/staff/reports/mrr-rollforward?start=2026-03-01&end=2026-04-01&base_currency=USD"
    assert client.get(url).status_code == 401
    headers = _finance(client)
    body = client.get(url, headers=headers).get_json()
    assert (body["report"], body["version"], body["converted"]["fx_minor"]) == ("mrr-rollforward", 1, 90)
    as_csv = client.get(url + "&format=csv", headers=headers)
    assert as_csv.mimetype == "text/csv" and as_csv.headers["X-Report"] == "mrr-rollforward/1"
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    assert rows[0] == ["currency", "line", "amount_minor"]
    assert ["USD (converted)", "fx", "90"] in rows and ["EUR", "end", "900"] in rows


def test_a_missing_rate_or_a_bad_period_is_a_422_problem(client: Any, march: None) -> None:
    headers = _finance(client)
    no_rate = client.get("/api/staff/reports/mrr-rollforward?start=2026-03-01&end=2026-04-01&base_currency=GBP",
                         headers=headers)
    assert no_rate.status_code == 422 and no_rate.content_type == "application/problem+json"
    assert "->GBP rate on or before" in no_rate.get_json()["detail"]
    for query in ("start=2026-03-01&end=2026-03-01", "start=2026-03-01", "start=x&end=2026-04-01",
                  "start=2020-01-01&end=2026-01-01", "start=2026-03-01&end=2026-04-01&stream=other"):
        assert client.get(f"/api/staff/reports/mrr-rollforward?{query}", headers=headers).status_code == 422, query


def test_the_drill_down_lists_the_readers_behind_each_figure(client: Any, march: None) -> None:
    headers = _finance(client)
    base = "/api/staff/reports/mrr-movements?start=2026-03-01&end=2026-04-01"
    new = client.get(base + "&kind=new", headers=headers).get_json()
    assert [(m["currency"], m["mrr_delta_minor"]) for m in new["movements"]] == [("EUR", 900), ("USD", 500)]
    assert all(m["email"] and m["stripe_subscription_id"].startswith("sub_") for m in new["movements"])
    every = client.get(base, headers=headers).get_json()
    report = roll_forward(Stream.MEMBERSHIP, MARCH, APRIL)
    for c in report.currencies:
        assert sum(m["mrr_delta_minor"] for m in every["movements"] if m["currency"] == c.currency) \
            == sum(c.movements.values())
    one = client.get(base + "&currency=USD&limit=1", headers=headers).get_json()
    assert (one["count"], one["truncated"], one["movements"][0]["kind"]) == (1, True, "new")
    rows = list(csv.reader(io.StringIO(client.get(base + "&format=csv", headers=headers).get_data(as_text=True))))
    assert rows[0][:4] == ["occurred_at", "kind", "currency", "mrr_delta_minor"] and len(rows) == 1 + 4
