"""The beat finders pick the right subscriptions, once; price changes; the sweeper."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from membership.billing.models import Refund
from membership.billing.notices.scheduling import (
    find_annual_reminders,
    find_renewal_notices,
    find_trial_endings,
    next_anniversary,
    schedule_due_notices,
    schedule_price_change,
    sweep_due_notices,
)
from membership.billing.notices.statements import find_year_end_statements
from membership.db import utcnow
from membership.enums import Interval, Stream, SubscriptionStatus
from membership.errors import InvalidInput, NotFound
from membership.mail.models import Notice, NoticeStatus
from membership.mail.notices import record_notice
from membership.mail.render import render_notice
from tests.factories.billing import PaymentFactory, PriceFactory, SubscriptionFactory
from tests.factories.readers import ReaderFactory
from tests.mail.conftest import yearly_subscription

DAY = timedelta(days=1)


def _notices(db_session: Any, kind: str) -> list[Notice]:
    return list(db_session.query(Notice).filter_by(kind=kind).order_by(Notice.id))


def test_renewal_finder_picks_annual_terms_renewing_within_30_days(db_session: Any) -> None:
    due = yearly_subscription(days_to_renewal=20)
    yearly_subscription(days_to_renewal=40)  # not yet
    yearly_subscription(days_to_renewal=20, cancel_at_period_end=True)
    yearly_subscription(days_to_renewal=20, status=SubscriptionStatus.CANCELED)
    yearly_subscription(days_to_renewal=20, reader_id=ReaderFactory(deleted_at=utcnow()).id)
    SubscriptionFactory(current_period_end=utcnow() + 20 * DAY)  # monthly: no renewal-law notice
    now = utcnow()
    assert find_renewal_notices(now) == 1
    assert find_renewal_notices(now) == 0  # idempotent
    [notice] = _notices(db_session, "renewal_notice")
    end = due.current_period_end
    assert end is not None
    assert notice.dedupe_key == f"{due.stripe_subscription_id}:{int(end.timestamp())}"
    assert notice.due_at == end - 30 * DAY and notice.window_closes_at == end - 15 * DAY
    assert json.loads(notice.context) == {"subscription_id": due.id}


def test_webhook_and_scheduler_share_one_renewal_notice(db_session: Any) -> None:
    sub = yearly_subscription(days_to_renewal=25)
    end = sub.current_period_end
    assert end is not None
    record_notice("renewal_notice", f"{sub.stripe_subscription_id}:{int(end.timestamp())}", "x@example.org",
                  {"subscription_id": sub.id})  # as 5a records it on invoice.upcoming
    assert find_renewal_notices(utcnow()) == 0
    [notice] = _notices(db_session, "renewal_notice")
    db_session.refresh(notice)
    assert notice.window_closes_at == end - 15 * DAY  # the finder adds the legal window


def test_trial_finder_seven_days_before_the_end(db_session: Any) -> None:
    soon = SubscriptionFactory(status=SubscriptionStatus.TRIALING, trial_end=utcnow() + 5 * DAY)
    SubscriptionFactory(status=SubscriptionStatus.TRIALING, trial_end=utcnow() + 10 * DAY)
    SubscriptionFactory(status=SubscriptionStatus.ACTIVE, trial_end=utcnow() + 5 * DAY)
    assert find_trial_endings(utcnow()) == 1
    assert find_trial_endings(utcnow()) == 0
    [notice] = _notices(db_session, "trial_ending")
    assert notice.window_closes_at == (soon.trial_end or utcnow()) - 3 * DAY


def test_annual_reminder_on_the_signup_anniversary_of_monthly_plans(db_session: Any) -> None:
    now = utcnow()
    due = SubscriptionFactory(stripe_created_at=now - 365 * DAY + 3 * DAY)  # anniversary in ~3 days
    SubscriptionFactory(stripe_created_at=now - 365 * DAY - 2 * DAY)  # it was 2 days ago: next year
    SubscriptionFactory(stripe_created_at=now - 100 * DAY)
    SubscriptionFactory(stripe_created_at=now - 365 * DAY + 3 * DAY, interval=Interval.YEAR)  # renewal notice instead
    assert find_annual_reminders(now) == 1
    assert find_annual_reminders(now) == 0
    [notice] = _notices(db_session, "annual_reminder")
    anniversary = next_anniversary(due.stripe_created_at, now)
    assert notice.dedupe_key == f"{due.stripe_subscription_id}:{anniversary.year}"
    assert notice.window_closes_at == anniversary and notice.due_at == anniversary - 7 * DAY


def test_next_anniversary_handles_leap_days() -> None:
    signup = datetime(2024, 2, 29, 10, tzinfo=UTC)
    assert next_anniversary(signup, datetime(2025, 1, 1, tzinfo=UTC)) == datetime(2025, 2, 28, 10, tzinfo=UTC)
    assert next_anniversary(signup, datetime(2027, 3, 1, tzinfo=UTC)) == datetime(2028, 2, 29, 10, tzinfo=UTC)
    assert next_anniversary(signup, datetime(2024, 3, 1, tzinfo=UTC)) == datetime(2025, 2, 28, 10, tzinfo=UTC)


def test_price_change_notices_21_days_before(app: Flask, db_session: Any) -> None:
    price = PriceFactory(amount_minor=1000)
    subs = [SubscriptionFactory(price_id=price.id) for _ in range(2)]
    SubscriptionFactory(price_id=price.id, cancel_at_period_end=True)
    SubscriptionFactory()  # another price
    effective = utcnow() + 25 * DAY
    assert schedule_price_change(price.id, 1500, effective) == 2
    assert schedule_price_change(price.id, 1500, effective) == 0
    notices = _notices(db_session, "price_change")
    assert sorted(json.loads(n.context)["subscription_id"] for n in notices) == sorted(s.id for s in subs)
    assert all(n.due_at == effective - 21 * DAY and n.window_closes_at == effective - 7 * DAY for n in notices)
    out = render_notice(notices[0], app.config["SETTINGS"])
    assert "from $10.00 to $15.00" in out.text and "cancel at any time" in out.text
    with pytest.raises(InvalidInput):
        schedule_price_change(price.id, 1500, utcnow() + 5 * DAY)  # the 7-day minimum cannot be met
    with pytest.raises(InvalidInput):
        schedule_price_change(price.id, 1500, datetime(2030, 1, 1))  # naive
    with pytest.raises(NotFound):
        schedule_price_change(987654, 1500, effective)


def test_year_end_statements_per_donor_per_currency_in_january(app: Flask, db_session: Any) -> None:
    year = utcnow().year - 1
    jan = datetime(year + 1, 1, 15, 18, tzinfo=UTC)
    donor, other = ReaderFactory(), ReaderFactory()
    mid = datetime(year, 6, 1, tzinfo=UTC)
    gift = PaymentFactory(reader_id=donor.id, gross_minor=10000, fee_minor=300, paid_at=mid)
    PaymentFactory(reader_id=donor.id, gross_minor=12000, fee_minor=400, benefit_value_minor=2000,
                   stream=Stream.MEMBERSHIP, paid_at=mid + 30 * DAY)
    PaymentFactory(reader_id=donor.id, gross_minor=5000, fee_minor=200, currency="EUR", paid_at=mid)
    PaymentFactory(reader_id=donor.id, gross_minor=999, fee_minor=0, stream=Stream.OTHER, paid_at=mid)
    PaymentFactory(reader_id=other.id, gross_minor=7000, fee_minor=0, paid_at=jan)  # this year: not yet
    db_session.add(Refund(payment_id=gift.id, stripe_refund_id="re_1", amount_minor=1000, currency="USD",
                          status="succeeded"))
    db_session.flush()
    assert find_year_end_statements(jan.replace(month=3)) == 0  # only in January
    assert find_year_end_statements(jan) == 2
    assert find_year_end_statements(jan) == 0
    by_currency = {json.loads(n.context)["currency"]: n for n in _notices(db_session, "year_end_statement")}
    assert set(by_currency) == {"USD", "EUR"}
    usd = json.loads(by_currency["USD"].context)
    assert (usd["total_minor"], usd["benefit_minor"], usd["year"]) == (21000, 2000, year)
    assert by_currency["USD"].dedupe_key == f"{donor.id}:{year}:USD"
    out = render_notice(by_currency["USD"], app.config["SETTINGS"])
    assert "Deductible amount: $190.00" in out.text and f"in {year}" in out.text


def test_sweeper_requeues_lost_sends_once_per_backoff(db_session: Any) -> None:
    now, minute = utcnow(), timedelta(minutes=1)
    lost, _ = record_notice("welcome", "reader:lost", "lost@example.org", {}, due_at=now - 20 * minute)
    fresh, _ = record_notice("welcome", "reader:fresh", "fresh@example.org", {}, due_at=now)
    claimed, _ = record_notice("welcome", "reader:claimed", "claimed@example.org", {}, due_at=now - 60 * minute)
    claimed.claimed_until = now + 5 * minute  # a worker is sending it right now
    done, _ = record_notice("welcome", "reader:done", "done@example.org", {}, due_at=now - DAY)
    done.status = NoticeStatus.SENT
    db_session.flush()
    assert sweep_due_notices(now) == [lost.id]  # fresh: its own enqueue gets 5 minutes first
    assert lost.next_attempt_at == now + 15 * minute
    assert sweep_due_notices(now) == []
    # Later: fresh's grace is over and claimed's lease expired (its worker died); lost waits.
    assert sweep_due_notices(now + 6 * minute) == [claimed.id, fresh.id]
    assert sweep_due_notices(now + 21 * minute) == [lost.id]  # backoff + grace


def test_schedule_due_notices_runs_every_finder(db_session: Any) -> None:
    yearly_subscription(days_to_renewal=10)
    counts = schedule_due_notices()
    assert counts["renewal_notice"] == 1 and counts["trial_ending"] == 0 and "swept" in counts
    assert schedule_due_notices()["renewal_notice"] == 0


def test_a_refunded_or_charged_back_payment_is_no_gift_on_the_statement(app: Flask, db_session: Any) -> None:
    """A membership refunded in full takes its benefit with it, a gift lost to a
    chargeback is not stated, and the line items show what was kept."""
    from membership.billing.models import Dispute

    year = utcnow().year - 1
    jan, mid = datetime(year + 1, 1, 15, 18, tzinfo=UTC), datetime(year, 6, 1, tzinfo=UTC)
    donor = ReaderFactory()
    kept = PaymentFactory(reader_id=donor.id, gross_minor=10000, fee_minor=300, paid_at=mid)
    refunded = PaymentFactory(reader_id=donor.id, gross_minor=12000, fee_minor=400, benefit_value_minor=2000,
                              stream=Stream.MEMBERSHIP, paid_at=mid + DAY)
    charged_back = PaymentFactory(reader_id=donor.id, gross_minor=3000, fee_minor=100, paid_at=mid + 2 * DAY)
    db_session.add_all([
        Refund(payment_id=refunded.id, stripe_refund_id="re_full", amount_minor=12000, currency="USD",
               status="succeeded"),
        Refund(payment_id=kept.id, stripe_refund_id="re_part", amount_minor=2500, currency="USD", status="succeeded"),
        Dispute(payment_id=charged_back.id, stripe_dispute_id="du_lost", amount_minor=3000, currency="USD",
                status="lost"),
    ])
    db_session.flush()
    assert find_year_end_statements(jan) == 1
    [notice] = _notices(db_session, "year_end_statement")
    context = json.loads(notice.context)
    assert (context["total_minor"], context["benefit_minor"], context["count"]) == (7500, 0, 1)
    text = render_notice(notice, app.config["SETTINGS"]).text
    assert "Deductible amount: $75.00" in text
    assert "$75.00" in text and "$100.00" not in text and "$120.00" not in text and "$30.00" not in text
