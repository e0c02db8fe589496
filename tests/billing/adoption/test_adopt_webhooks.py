"""Webhooks around an adoption, through every real part: stripe_sim delivers signed events
to the app on a real HTTP server, a Celery worker process handles them.

- A customer who subscribes while the adoption runs: their events fail for want of a
  reader, are held (not dead, even out of attempts) while the run lasts, and are
  processed once the adoption has picked the customer up.
- After the adoption, one more month on the test clock: the renewals arrive by webhook
  and land on the adopted subscriptions like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from membership.billing import processing
from membership.billing.adoption.walk import adopt
from membership.billing.gateway import stripe_client
from membership.billing.models import Payment, Subscription, WebhookEvent, WebhookStatus
from membership.extensions import db
from membership.identity.models import Reader
from tests.billing.adoption.account import DAY, T0, Account, renew
from tests.support.live import serve
from tests.support.worker import wait_until


def statuses() -> dict[str, int]:
    db.session.rollback()
    rows = db.session.execute(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status))
    return {status.value: int(n) for status, n in rows}


def settled(sim: Any) -> bool:
    return bool(sim.wait_for_deliveries(30)) and set(statuses()) <= {"processed", "dead"}


@pytest.mark.slow
def test_events_during_adoption_are_held_then_processed_and_renewals_flow(
        adopt_app: Flask, fresh_db: Account, own_sim: Any, app_settings: dict[str, Any],
        start_worker: Callable[..., Any]) -> None:
    acc = fresh_db
    sdk = stripe_client()
    start_worker(queues="webhooks", concurrency=1, STRIPE_API_BASE=own_sim.url)
    with serve(adopt_app) as base:
        endpoint = own_sim.add_webhook_endpoint(f"{base}/webhooks/stripe")
        try:
            late: dict[str, str] = {}

            def subscribe_midway(resource: str, obj: dict[str, Any]) -> None:
                if resource != "subscriptions" or late:
                    return
                price = sdk.v1.subscriptions.retrieve(acc.subs["alice"])["items"].data[0].price.id
                cus = sdk.v1.customers.create(params={
                    "email": "late@example.com", "payment_method": "pm_card_visa", "test_clock": acc.clock,
                    "invoice_settings": {"default_payment_method": "pm_card_visa"}})
                late["customer"] = cus.id
                late["sub"] = sdk.v1.subscriptions.create(
                    params={"customer": cus.id, "items": [{"price": price}]}).id

                def waiting() -> list[WebhookEvent]:
                    db.session.rollback()
                    return list(db.session.scalars(select(WebhookEvent).where(
                        WebhookEvent.object_id == late["sub"], WebhookEvent.status == WebhookStatus.FAILED)))

                assert wait_until(lambda: bool(waiting()), timeout=30), statuses()
                for row in waiting():  # out of attempts, as after half an hour of retries
                    outcome, _ = processing.process(row.id, max_attempts=1)
                    assert outcome is processing.Outcome.RETRY
                held = waiting()
                assert held and all("held until the Stripe adoption finishes" in (r.last_error or "") for r in held)

            summary = adopt(rps=100, donation_products=frozenset({acc.donation_product}),
                            before_object=subscribe_midway)
            assert late and summary.notes.get("webhook events released", 0) >= 1

            # the held events run again once released, now that the customer is a reader
            assert wait_until(lambda: settled(own_sim), timeout=90), statuses()
            assert "dead" not in statuses()
            reader = db.session.scalar(select(Reader).where(Reader.stripe_customer_id == late["customer"]))
            assert reader is not None and reader.email == "late@example.com"
            sub = db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == late["sub"]))
            assert sub is not None and sub.status.value == "active" and sub.mrr_minor == 1000

            # one more month through the normal webhook path
            alice_sub = acc.subs["alice"]
            before = db.session.scalar(select(func.count()).select_from(Payment).where(
                Payment.subscription_id == select(Subscription.id).where(
                    Subscription.stripe_subscription_id == alice_sub).scalar_subquery()))
            renew(acc)
            assert wait_until(lambda: settled(own_sim), timeout=120), statuses()
            assert "dead" not in statuses()
            local = db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == alice_sub))
            assert local is not None
            theirs = sdk.v1.subscriptions.retrieve(alice_sub)["items"].data[0]
            assert int(local.current_period_end.timestamp()) == theirs.current_period_end > T0 + 60 * DAY
            after = db.session.scalar(select(func.count()).select_from(Payment).where(
                Payment.subscription_id == local.id))
            assert after == before + 1
            renewal = db.session.scalars(select(Payment).where(Payment.subscription_id == local.id)
                                         .order_by(Payment.paid_at.desc())).first()
            assert renewal is not None and renewal.billing_reason == "subscription_cycle"
        finally:
            sdk.v1.webhook_endpoints.delete(endpoint)
            own_sim.wait_for_deliveries(10)
