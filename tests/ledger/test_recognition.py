"""Day-by-day recognition: exact monthly amounts, month-by-month postings, reversals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from membership.billing.models import Payment
from membership.enums import Stream
from membership.extensions import db
from membership.ledger.models import RevenueSchedule
from membership.ledger.postings import ServiceLine, post_charge
from membership.ledger.recognition import allocate, recognize_through, recognized_by_month, reverse
from tests.factories.billing import PaymentFactory
from tests.ledger.money_support import balances, journal, lines_of

# local midnight in Los Angeles (the default outlet zone) on 2026-01-01 and 2027-01-01
YEAR_START = datetime(2026, 1, 1, 8, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, 8, tzinfo=UTC)
DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def annual(gross: int, fee: int = 0) -> tuple[Payment, RevenueSchedule]:
    payment = PaymentFactory(stream=Stream.MEMBERSHIP, gross_minor=gross, fee_minor=fee, net_minor=gross - fee,
                             currency="USD", paid_at=YEAR_START, service_period_start=YEAR_START,
                             service_period_end=YEAR_END)
    post_charge(payment, [ServiceLine(gross, YEAR_START, YEAR_END)])
    return payment, db.session.scalars(select(RevenueSchedule).where(RevenueSchedule.payment_id == payment.id)).one()


def test_a_365_day_year_recognises_each_months_days(db_session: Any) -> None:
    _payment, schedule = annual(36500)
    assert recognize_through(date(2026, 12, 31)) == 12
    groups = journal("recognition")
    assert [g.period for g in groups] == [date(2026, m, 1) for m in range(1, 13)]
    assert [lines_of(g)[("membership_revenue", "USD")] for g in groups] == [-100 * d for d in DAYS]
    assert schedule.recognized_minor == 36500 and schedule.recognized_through == date(2026, 12, 31)
    assert balances(Stream.MEMBERSHIP)["deferred_revenue"] == 0
    assert recognize_through(date(2027, 2, 1)) == 0  # nothing left; re-runs post nothing


def test_uneven_amount_sums_exactly_and_matches_the_waterfall(db_session: Any) -> None:
    _payment, schedule = annual(10000)
    by_month = recognized_by_month(schedule)
    assert sum(by_month.values()) == 10000 and by_month[date(2026, 1, 1)] == 10000 * 31 // 365
    for month in range(1, 13):
        recognize_through(date(2026, month, 28))
    recognize_through(date(2026, 12, 31))
    posted: dict[date, int] = {}
    for group in journal("recognition"):
        posted[group.period] = posted.get(group.period, 0) - lines_of(group)[("membership_revenue", "USD")]
    assert posted == by_month


def test_nightly_runs_are_idempotent_and_partial_months_accumulate(db_session: Any) -> None:
    _payment, schedule = annual(36500)
    assert recognize_through(date(2026, 1, 10)) == 1
    assert recognize_through(date(2026, 1, 10)) == 0
    assert schedule.recognized_minor == 1000
    recognize_through(date(2026, 1, 31))
    assert schedule.recognized_minor == 3100 and len(journal("recognition")) == 2


def test_reversal_splits_recognised_and_deferred_and_later_recognition_completes(db_session: Any) -> None:
    _payment, schedule = annual(36500)
    recognize_through(date(2026, 3, 31))  # 90 days: 9000 recognised
    recognised, deferred = reverse([schedule], 3650)  # a tenth refunded
    assert (recognised, deferred) == (900, 2750)
    assert (schedule.recognized_minor, schedule.reversed_minor) == (8100, 3650)
    recognize_through(date(2026, 12, 31))
    assert schedule.recognized_minor == 36500 - 3650
    back = reverse([schedule], -3650)  # e.g. a dispute reinstated after the year
    assert back == (-3650, 0) and schedule.recognized_minor == 36500


def test_allocate_is_exact_and_proportional() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert sum(allocate(-101, [3, 5])) == -101
    assert allocate(7, [0, 0]) == [7, 0]
    assert allocate(1000, [2000, -1000]) == [2000, -1000]
