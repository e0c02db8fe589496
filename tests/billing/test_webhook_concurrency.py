"""Two copies at the same instant, against PostgreSQL through a real HTTP server:
one inbox row, one effect; and two workers racing on one row: one effect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from membership.billing import processing
from membership.billing.gateway import stripe_client
from membership.billing.models import Subscription, SubscriptionEvent, WebhookEvent, WebhookStatus
from membership.extensions import db
from tests.support.live import serve

from .webhook_support import event_body, make_reader, sign, sim_customer, sim_price

COPIES = 8


@pytest.fixture
def live_server(app: Flask, committed_db: None) -> Iterator[str]:
    with serve(app) as url:
        yield url


def _count(model: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_same_event_posted_concurrently_is_stored_and_processed_once(app: Flask, live_server: str,
                                                                     stripe_sim: Any) -> None:
    reader = make_reader()
    customer = sim_customer(reader)
    price = sim_price(1100)
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    snapshot = stripe_client().v1.subscriptions.retrieve(sub.id).to_dict(recursive=True, for_json=True)
    body = event_body("customer.subscription.created", snapshot, event_id="evt_concurrent_1")
    header = sign(body)
    barrier = threading.Barrier(COPIES)
    answers: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def post_copy() -> None:
        with requests.Session() as http:
            barrier.wait(timeout=10)
            r = http.post(f"{live_server}/webhooks/stripe", data=body,
                          headers={"Stripe-Signature": header, "Content-Type": "application/json"}, timeout=10)
            with lock:
                answers.append((r.status_code, r.json()["duplicate"]))

    threads = [threading.Thread(target=post_copy) for _ in range(COPIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(answers) == [(200, False)] + [(200, True)] * (COPIES - 1)
    assert _count(WebhookEvent) == 1
    row_id = db.session.scalar(select(WebhookEvent.id))
    assert row_id is not None

    # now several workers race on the one row (as after a redelivery plus a sweep)
    outcomes: list[processing.Outcome] = []
    start = threading.Barrier(4)

    def work() -> None:
        with app.app_context():
            start.wait(timeout=10)
            outcome, _ = processing.process(row_id)
            db.session.remove()
            with lock:
                outcomes.append(outcome)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert outcomes.count(processing.Outcome.PROCESSED) == 1
    assert set(outcomes) <= {processing.Outcome.PROCESSED, processing.Outcome.SKIPPED}
    assert _count(Subscription) == 1 and _count(SubscriptionEvent) == 1
    row = db.session.get(WebhookEvent, row_id)
    assert row is not None and row.status is WebhookStatus.PROCESSED
    assert json.loads(row.payload)["id"] == "evt_concurrent_1"
