"""Notices the subscription pipeline records: payment_failed per attempt, trial_will_end,
renewal_notice for yearly plans, cancellation_confirmation once per cancellation."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from membership.billing.models import Subscription
from membership.extensions import db
from membership.mail.models import Notice

from .test_mrr_movements import DAY, T0, Clocked
from .webhook_support import make_reader, sim_price


def _notices(kind: str) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(Notice.kind == kind).order_by(Notice.id)))


def test_failed_renewal_attempts_each_get_one_payment_failed_notice(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    sub = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": sim_price(1000).id}]})
    c.sync()
    c.sdk.v1.subscriptions.update(sub.id, params={"default_payment_method": "pm_card_chargeCustomerFail"})
    c.advance(31.1)
    c.sync()
    c.advance(34.1)  # Stripe's first retry fails too
    c.sync()
    c.sync()  # nothing new: no duplicate notice
    notices = [n for n in _notices("payment_failed") if n.reader_id == reader.id]
    contexts = [json.loads(n.context) for n in notices]
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert [ctx["attempt_count"] for ctx in contexts] == [1, 2]
    assert {ctx["subscription_id"] for ctx in contexts} == {local.id}
    assert contexts[0]["amount_minor"] == 1000 and contexts[0]["currency"] == "USD"
    assert isinstance(contexts[0]["next_payment_attempt"], int)
    assert [n.dedupe_key for n in notices] == [f"{contexts[0]['invoice_id']}:1", f"{contexts[0]['invoice_id']}:2"]
    assert notices[0].email == reader.email


def test_trial_will_end_notice_once_per_trial_end(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    sub = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": sim_price(800).id}],
                                                "trial_period_days": 14})
    c.sync()
    c.advance(11.5)  # three days before the trial ends
    c.sync()
    notices = [n for n in _notices("trial_will_end") if n.reader_id == reader.id]
    assert [n.dedupe_key for n in notices] == [f"{sub.id}:{T0 + 14 * DAY}"]
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert local.status.value == "trialing" and local.mrr_minor == 0  # a trial is not MRR yet


def test_yearly_plans_get_a_renewal_notice_and_monthly_ones_do_not(client: Any, stripe_sim: Any) -> None:
    yearly_reader, monthly_reader = make_reader(), make_reader()
    y, m = Clocked(client, yearly_reader), Clocked(client, monthly_reader)
    y_sub = y.sdk.v1.subscriptions.create(params={"customer": y.customer.id,
                                                  "items": [{"price": sim_price(9000, "year").id}]})
    m.sdk.v1.subscriptions.create(params={"customer": m.customer.id, "items": [{"price": sim_price(900).id}]})
    y.sync()
    m.sync()
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == y_sub.id)).one()
    end = int(local.current_period_end.timestamp())
    y.advance((end - T0) / DAY - 6.5)  # invoice.upcoming fires 7 days before renewal
    m.advance(31 - 6.5)
    y.sync()
    m.sync()
    assert [n.dedupe_key for n in _notices("renewal_notice") if n.reader_id == yearly_reader.id] == [f"{y_sub.id}:{end}"]
    assert [n for n in _notices("renewal_notice") if n.reader_id == monthly_reader.id] == []
    assert local.mrr_minor == 750


def test_cancellation_confirmation_once_for_schedule_and_end(client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    c = Clocked(client, reader)
    sub = c.sdk.v1.subscriptions.create(params={"customer": c.customer.id, "items": [{"price": sim_price(500).id}]})
    c.sync()
    c.advance(3)
    c.sdk.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    c.sync()
    c.advance(32)
    c.sync()
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert local.status.value == "canceled"
    notices = [n for n in _notices("cancellation_confirmation") if n.reader_id == reader.id]
    assert len(notices) == 1 and json.loads(notices[0].context) == {"subscription_id": local.id}
