"""`flask stripe replay | backfill | resync` against stripe_sim."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from membership.billing import processing
from membership.billing.gateway import stripe_client
from membership.billing.models import Subscription, SubscriptionEvent, WebhookEvent, WebhookStatus
from membership.extensions import db

from .webhook_support import deliver, event_body, make_reader, sim_customer, sim_price


def _run(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=["stripe", *args])
    return result


def _moves() -> int:
    return int(db.session.scalar(select(func.count()).select_from(SubscriptionEvent)) or 0)


def test_replay_dead_events_after_the_cause_is_fixed(app: Flask, client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader, link=False)
    reader_meta_less = stripe_client().v1.customers.update(customer.id, params={"metadata": {"reader_id": ""}})
    assert not reader_meta_less.metadata.to_dict().get("reader_id")
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id,
                                                          "items": [{"price": sim_price(800).id}]})
    row_id = deliver(client, json.loads(event_body("customer.subscription.created",
                                                   {"id": sub.id, "object": "subscription"})))
    assert processing.process(row_id, max_attempts=1)[0] is processing.Outcome.DEAD
    assert _run(app, "replay").exit_code != 0  # nothing chosen
    reader.stripe_customer_id = customer.id  # staff linked the reader by hand
    db.session.commit()
    result = _run(app, "replay", "--dead")
    assert result.exit_code == 0, result.output
    assert f"{row_id}: processed" in result.output
    row = db.session.get(WebhookEvent, row_id)
    assert row is not None and row.status is WebhookStatus.PROCESSED and row.attempts == 1
    assert _moves() == 1
    again = _run(app, "replay", row.stripe_event_id)  # a processed event replays with no new effect
    assert again.exit_code == 0 and f"{row_id}: processed" in again.output
    assert _moves() == 1
    assert _run(app, "replay", "evt_unknown").exit_code != 0


def test_backfill_stores_missed_events_once_and_processes_them(app: Flask, client: Any, stripe_sim: Any) -> None:
    since = datetime.fromtimestamp(stripe_sim.now() - 1, tz=UTC).isoformat()
    reader = make_reader()
    customer = sim_customer(reader)
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id,
                                                          "items": [{"price": sim_price(600).id}]})
    first = _run(app, "backfill", "--since", since, "--inline")
    assert first.exit_code == 0, first.output
    stored = db.session.scalars(select(WebhookEvent)).all()
    ours = [r for r in stored if customer.id in r.payload]  # the sim is shared with earlier tests
    assert "customer.subscription.created" in {r.type for r in ours}
    assert {r.status for r in ours} == {WebhookStatus.PROCESSED}
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert local.mrr_minor == 600
    second = _run(app, "backfill", "--since", since, "--inline")
    assert second.exit_code == 0 and "stored 0 new" in second.output
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == len(stored)
    assert _run(app, "backfill", "--since", "last tuesday").exit_code != 0


def test_resync_repairs_drift_from_a_lost_event(app: Flask, client: Any, stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id,
                                                          "items": [{"price": sim_price(900).id}]})
    snapshot = stripe_client().v1.subscriptions.retrieve(sub.id).to_dict(recursive=True, for_json=True)
    processing.process(deliver(client, json.loads(event_body("customer.subscription.created", snapshot))))
    stripe_client().v1.subscriptions.cancel(sub.id)  # its webhook never arrives
    result = _run(app, "resync")
    assert result.exit_code == 0 and "resynced 1" in result.output, result.output
    local = db.session.scalars(select(Subscription).where(Subscription.stripe_subscription_id == sub.id)).one()
    assert local.status.value == "canceled" and local.mrr_minor == 0
    kinds = db.session.scalars(select(SubscriptionEvent.kind).where(SubscriptionEvent.subscription_id == local.id)
                               .order_by(SubscriptionEvent.id)).all()
    assert [k.value for k in kinds] == ["new", "churn_voluntary"]
