"""MRR movements from real subscription lifecycles on a sim test clock, and MRR at
past dates as a sum, checked against a hand-computed table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from membership.billing import mrr
from membership.billing.gateway import stripe_client
from membership.billing.models import Subscription, SubscriptionEvent
from membership.enums import Stream, SubscriptionStatus
from membership.extensions import db
from membership.identity.models import Reader

from .webhook_support import (
    deliver_and_process,
    latest_event_id,
    make_reader,
    sim_customer,
    sim_events_since,
    sim_price,
)

T0 = 1772323200  # 2026-03-01T00:00:00Z
DAY = 86400


def at(days: float) -> datetime:
    return datetime.fromtimestamp(T0 + int(days * DAY), tz=UTC)


@pytest.mark.parametrize(("amount", "interval", "count", "quantity", "expected"), [
    (1000, "month", 1, 1, 1000), (12000, "year", 1, 1, 1000), (10000, "year", 1, 1, 833),
    (500, "week", 1, 1, 2167), (100, "day", 1, 1, 3042), (3000, "month", 3, 1, 1000), (1000, "month", 1, 3, 3000),
])
def test_monthly_normalisation(amount: int, interval: str, count: int, quantity: int, expected: int) -> None:
    assert mrr.monthly_minor(amount, quantity, interval, count) == expected


class Clocked:
    """One reader on one sim test clock; every step feeds the sim's events through the inbox."""

    def __init__(self, client: Any, reader: Reader) -> None:
        self.client = client
        self.sdk = stripe_client()
        self.clock = self.sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
        self.customer = sim_customer(reader, clock=self.clock.id)
        self.marker = latest_event_id()

    def advance(self, days: float) -> None:
        self.sdk.v1.test_helpers.test_clocks.advance(self.clock.id, params={"frozen_time": T0 + int(days * DAY)})

    def sync(self) -> None:
        events = sim_events_since(self.marker, {self.customer.id})
        self.marker = latest_event_id()
        deliver_and_process(self.client, events)


def _kinds(reader: Reader) -> list[tuple[str, int, datetime]]:
    rows = db.session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.reader_id == reader.id)
                              .order_by(SubscriptionEvent.occurred_at, SubscriptionEvent.id))
    return [(r.kind.value, r.mrr_delta_minor, r.occurred_at) for r in rows]


def test_membership_lifecycle_movements_and_mrr_history(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    p10, p25 = sim_price(1000), sim_price(2500)
    sub = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": p10.id}]})
    c.sync()
    item = sub["items"].data[0].id
    c.advance(10)
    c.sdk.v1.subscriptions.update(sub.id, params={"items": [{"id": item, "price": p25.id}]})
    c.sync()
    c.advance(20)
    c.sdk.v1.subscriptions.update(sub.id, params={"items": [{"id": item, "price": p10.id}]})
    c.sync()
    c.advance(25)
    c.sdk.v1.subscriptions.update(sub.id, params={"pause_collection": {"behavior": "void"}})
    c.sync()
    c.advance(28)
    c.sdk.v1.subscriptions.update(sub.id, params={"pause_collection": ""})
    c.sync()
    c.sdk.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    c.sync()
    end = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    period_end = int(end.current_period_end.timestamp())
    assert end.mrr_minor == 1000 and end.cancel_at_period_end  # scheduled, not churned yet
    c.advance((period_end - T0) / DAY + 1)
    c.sync()
    second = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": p25.id}]})
    c.sync()
    assert second.id != sub.id
    ended = at((period_end - T0) / DAY)
    assert _kinds(reader) == [
        ("new", 1000, at(0)), ("expansion", 1500, at(10)), ("contraction", -1500, at(20)),
        ("pause", -1000, at(25)), ("resume", 1000, at(28)), ("churn_voluntary", -1000, ended),
        ("reactivation", 2500, at((period_end - T0) / DAY + 1)),
    ]
    table = {0: 1000, 5: 1000, 10: 2500, 15: 2500, 20: 1000, 26: 0, 28: 1000, 30.9: 1000, 31.5: 0, 32.5: 2500}
    for day, expected in table.items():
        assert mrr.mrr_at(at(day), Stream.MEMBERSHIP).get("USD", 0) - _others(at(day), reader) == expected, day


def _others(when: datetime, reader: Reader) -> int:
    """MRR of other tests' rows in this database (none unless they committed); subtracted
    so the table above is about this reader only."""
    from sqlalchemy import func

    total = db.session.scalar(select(func.coalesce(func.sum(SubscriptionEvent.mrr_delta_minor), 0)).where(
        SubscriptionEvent.reader_id != reader.id, SubscriptionEvent.stream == Stream.MEMBERSHIP,
        SubscriptionEvent.currency == "USD", SubscriptionEvent.occurred_at <= when))
    return int(total or 0)


def test_failed_renewal_is_delinquent_churn_after_the_window_and_recovery_reactivates(
        client: Any, stripe_sim: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # a 2-day dunning window (the default is 30) so the sim's 3-day retry recovers after it
    monkeypatch.setitem(app.config["SETTINGS"].extra, "dunning_window_days", 2)
    reader = make_reader()
    c = Clocked(client, reader)
    price = sim_price(1000)
    sub = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": price.id}]})
    c.sync()
    # the card starts declining: the renewal fails and the subscription goes past_due
    c.sdk.v1.subscriptions.update(sub.id, params={"default_payment_method": "pm_card_chargeCustomerFail"})
    c.advance(31 + 0.1)
    c.sync()
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert local.status is SubscriptionStatus.PAST_DUE and local.mrr_minor == 1000  # inside the dunning window
    since = local.past_due_since
    assert since == at(31)
    assert mrr.mark_delinquent_churn(at(32.5)) == 0
    assert mrr.mark_delinquent_churn(at(33.1)) == 1
    assert mrr.mark_delinquent_churn(at(33.2)) == 0  # once
    db.session.commit()
    # the reader fixes the card: Stripe's next retry (3 days later) pays, active again
    c.sdk.v1.subscriptions.update(sub.id, params={"default_payment_method": "pm_card_visa"})
    c.advance(31 + 3 + 0.2)
    c.sync()
    db.session.refresh(local)
    assert local.status is SubscriptionStatus.ACTIVE and local.past_due_since is None
    assert _kinds(reader) == [("new", 1000, at(0)), ("churn_delinquent", -1000, at(33)),
                              ("reactivation", 1000, at(34))]


def test_retries_exhausted_inside_the_window_is_delinquent_churn_when_it_ends(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    price = sim_price(1000)
    sub = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": price.id}]})
    c.sync()
    c.sdk.v1.subscriptions.update(sub.id, params={"default_payment_method": "pm_card_chargeCustomerFail"})
    for day in (31.1, 34.1, 39.1, 46.1):  # renewal, then Stripe's retries 3, 5 and 7 days apart
        c.advance(day)
    c.sync()
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert local.status is SubscriptionStatus.CANCELED and local.cancellation_reason == "payment_failed"
    assert _kinds(reader) == [("new", 1000, at(0)), ("churn_delinquent", -1000, local.ended_at)]


def test_recurring_donations_are_their_own_stream(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    gift = sim_price(500, metadata={"stream": "recurring_donation"})
    c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": gift.id}]})
    c.sync()
    assert [(k, d) for k, d, _ in _kinds(reader)] == [("new", 500)]
    row = db.session.scalars(select(SubscriptionEvent).where(SubscriptionEvent.reader_id == reader.id)).one()
    assert row.stream is Stream.RECURRING_DONATION
    donations = mrr.mrr_at(at(1), Stream.RECURRING_DONATION).get("USD", 0)
    assert donations >= 500
