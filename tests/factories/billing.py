"""Plans, prices, subscriptions and payments, as the webhook handlers would leave them."""

from __future__ import annotations

from datetime import timedelta

import factory

from membership.billing.models import Payment, Plan, PlanKind, Price, Subscription
from membership.db import utcnow
from membership.enums import Interval, Stream, SubscriptionStatus
from tests.factories.base import Factory
from tests.factories.readers import ReaderFactory


class PlanFactory(Factory):
    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.Sequence(lambda n: f"Plan {n}")
    kind = PlanKind.MEMBERSHIP
    stream = Stream.MEMBERSHIP


class PriceFactory(Factory):
    class Meta:
        model = Price

    plan_id = factory.LazyAttribute(lambda o: PlanFactory().id)
    currency = "USD"
    interval = Interval.MONTH
    amount_minor = 1000


class SubscriptionFactory(Factory):
    class Meta:
        model = Subscription

    reader_id = factory.LazyAttribute(lambda o: ReaderFactory().id)
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test_{n}")
    stream = Stream.MEMBERSHIP
    status = SubscriptionStatus.ACTIVE
    unit_amount_minor = 1000
    currency = "USD"
    interval = Interval.MONTH
    current_period_start = factory.LazyFunction(utcnow)
    current_period_end = factory.LazyAttribute(lambda o: o.current_period_start + timedelta(days=30))
    mrr_minor = 1000
    stripe_created_at = factory.LazyFunction(utcnow)


class PaymentFactory(Factory):
    class Meta:
        model = Payment

    reader_id = factory.LazyAttribute(lambda o: ReaderFactory().id)
    stripe_charge_id = factory.Sequence(lambda n: f"ch_test_{n}")
    balance_transaction_id = factory.Sequence(lambda n: f"txn_test_{n}")
    stream = Stream.ONE_TIME_DONATION
    gross_minor = 2500
    fee_minor = 103
    net_minor = factory.LazyAttribute(lambda o: o.gross_minor - o.fee_minor)
    currency = "USD"
    paid_at = factory.LazyFunction(utcnow)
