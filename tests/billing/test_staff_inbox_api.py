"""The staff API over the webhook inbox: any staff role lists dead events; an admin
replays one once its cause is fixed, and the replay then really processes it."""

from __future__ import annotations

import json
from typing import Any

from membership.billing import processing
from membership.billing.gateway import stripe_client
from membership.billing.models import Subscription, WebhookEvent, WebhookStatus
from membership.enums import StaffRole
from membership.extensions import db
from membership.staff.services import create_staff_user
from tests.readers.helpers import unique_email

from .webhook_support import deliver, event_body, make_reader, sim_customer, sim_price


def _bearer(role: StaffRole) -> dict[str, str]:
    _user, token = create_staff_user(unique_email(role.value), role)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _dead_subscription_event(client: Any) -> tuple[int, Any, Any]:
    """A subscription event for a customer we cannot tie to a reader yet: it dies."""
    reader = make_reader()
    customer = sim_customer()  # no reader_id in its metadata: nothing ties it to the reader
    sub = stripe_client().v1.subscriptions.create(params={"customer": customer.id,
                                                          "items": [{"price": sim_price(1000).id}]})
    row_id = deliver(client, json.loads(event_body("customer.subscription.created",
                                                   {"id": sub.id, "object": "subscription"})))
    assert processing.process(row_id, max_attempts=1)[0] is processing.Outcome.DEAD
    return row_id, reader, customer


def test_finance_lists_dead_events_and_only_an_admin_replays(client: Any, stripe_sim: Any) -> None:
    row_id, reader, customer = _dead_subscription_event(client)
    finance, admin = _bearer(StaffRole.FINANCE), _bearer(StaffRole.ADMIN)

    listed = client.get("/api/staff/webhook-events", headers=finance)
    assert listed.status_code == 200
    body = listed.get_json()
    assert (body["status"], body["count"], body["events"][0]["id"]) == ("dead", 1, row_id)
    assert "no reader yet" in body["events"][0]["last_error"]
    assert client.post(f"/api/staff/webhook-events/{row_id}/replay", headers=finance).status_code == 403
    assert client.post(f"/api/staff/webhook-events/{row_id}/replay").status_code == 401

    reader.stripe_customer_id = customer.id  # the cause is fixed (the reader is linked now)
    db.session.commit()
    replayed = client.post(f"/api/staff/webhook-events/{row_id}/replay", headers=admin)
    assert replayed.status_code == 202
    assert (replayed.get_json()["status"], replayed.get_json()["attempts"]) == ("received", 0)
    assert processing.process(row_id)[0] is processing.Outcome.PROCESSED  # what the worker does with it
    assert db.session.get(WebhookEvent, row_id).status is WebhookStatus.PROCESSED
    assert db.session.query(Subscription).filter_by(reader_id=reader.id).count() == 1
    assert client.get("/api/staff/webhook-events", headers=finance).get_json()["count"] == 0


def test_replay_refuses_unknown_and_busy_events_and_bad_filters(client: Any, stripe_sim: Any) -> None:
    admin = _bearer(StaffRole.ADMIN)
    missing = client.post("/api/staff/webhook-events/999999999/replay", headers=admin)
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    row_id = deliver(client, json.loads(event_body("customer.updated", {"id": "cus_nobody", "object": "customer"})))
    row = db.session.get(WebhookEvent, row_id)
    row.status = WebhookStatus.PROCESSING
    db.session.commit()
    busy = client.post(f"/api/staff/webhook-events/{row_id}/replay", headers=admin)
    assert busy.status_code == 409
    assert db.session.get(WebhookEvent, row_id).status is WebhookStatus.PROCESSING
    for query in ("status=zombie", "limit=0", "limit=1001", "limit=x", "colour=red"):
        bad = client.get(f"/api/staff/webhook-events?{query}", headers=admin)
        assert bad.status_code == 422, query
