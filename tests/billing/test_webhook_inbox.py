"""POST /webhooks/stripe: signature on the raw body, the inbox insert, the outage answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from membership import create_app
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.extensions import db
from tests.conftest import free_port

from .webhook_support import event_body, post, sign


def _count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


def test_valid_event_is_stored_once_and_answered_200(client: Any) -> None:
    body = event_body("customer.updated", {"id": "cus_123", "object": "customer"}, event_id="evt_valid_1")
    response = post(client, body)
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "duplicate": False, "id": "evt_valid_1"}
    row = db.session.scalars(select(WebhookEvent)).one()
    assert (row.stripe_event_id, row.type, row.object_id, row.status) == (
        "evt_valid_1", "customer.updated", "cus_123", WebhookStatus.RECEIVED)
    assert row.payload.encode() == body  # the exact bytes, not a re-serialisation


def test_sequential_duplicate_is_200_with_no_new_row(client: Any) -> None:
    body = event_body("customer.updated", {"id": "cus_1", "object": "customer"}, event_id="evt_dup_1")
    assert post(client, body).get_json()["duplicate"] is False
    again = post(client, body)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert _count() == 1


def test_rotated_secret_any_matching_v1_is_enough(client: Any) -> None:
    body = event_body("customer.updated", {"id": "cus_2", "object": "customer"})
    t = int(time.time())
    good = sign(body, t=t).split("v1=")[1]
    bad = sign(body, "whsec_old_secret", t=t).split("v1=")[1]
    assert post(client, body, header=f"t={t},v1={bad},v1={good}").status_code == 200
    assert _count() == 1


@pytest.mark.parametrize("case", ["missing", "garbled", "wrong_secret", "stale", "tampered", "no_v1"])
def test_bad_signatures_are_400_and_store_nothing(client: Any, case: str) -> None:
    body = event_body("customer.updated", {"id": "cus_3", "object": "customer"})
    header = {
        "missing": "",
        "garbled": "t=notanumber,v1=zz",
        "wrong_secret": sign(body, "whsec_someone_else"),
        "stale": sign(body, t=int(time.time()) - 301),
        "tampered": sign(body),
        "no_v1": f"t={int(time.time())},v0=abc",
    }[case]
    sent = body.replace(b"cus_3", b"cus_4") if case == "tampered" else body
    response = post(client, sent, header=header)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "signature" in response.get_json()["detail"]
    assert _count() == 0


@pytest.mark.parametrize("body", [
    b"not json at all",
    b"[1, 2, 3]",
    b"\xff\xfe\x00binary",
    json.dumps({"id": "evt_thin", "object": "v2.core.event", "type": "v1.billing.meter.error_report_triggered",
                "related_object": {"id": "mtr_1"}}).encode(),
    json.dumps({"object": "event", "type": "customer.updated", "data": {"object": {}}}).encode(),
    json.dumps({"id": "evt_nodata", "object": "event", "type": "customer.updated"}).encode(),
])
def test_validly_signed_bodies_that_are_not_snapshot_events_are_400(client: Any, body: bytes) -> None:
    header = sign(body) if not body.startswith(b"\xff") else "t=1,v1=00"
    if body.startswith(b"\xff"):  # a signature over bytes that are not text cannot be made with the SDK
        import hashlib
        import hmac

        from tests.conftest import WEBHOOK_SECRET

        t = int(time.time())
        mac = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        header = f"t={t},v1={mac}"
    response = post(client, body, header=header)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert _count() == 0


def test_unknown_event_type_is_accepted(client: Any) -> None:
    """Unknown types are stored and later marked processed with a note (Stripe adds types)."""
    body = event_body("issuing_card.created", {"id": "ic_1", "object": "issuing.card"})
    assert post(client, body).status_code == 200
    assert _count() == 1


def test_get_is_not_allowed(client: Any) -> None:
    assert client.get("/webhooks/stripe").status_code == 405


@pytest.fixture
def restore_default_celery(app: Flask) -> Iterator[None]:
    """A second app makes its Celery app the process default; put the suite's back."""
    yield
    app.extensions["celery"].set_default()


def test_broker_down_still_stores_and_answers_200(app_settings: dict[str, Any], committed_db: None,
                                                  restore_default_celery: None) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    broken = create_app(**{**app_settings, "broker_url": dead})
    body = event_body("customer.updated", {"id": "cus_5", "object": "customer"}, event_id="evt_broker_down")
    with broken.app_context():
        response = post(broken.test_client(), body)
        assert response.status_code == 200, response.get_data(as_text=True)
        row = db.session.scalars(select(WebhookEvent).where(WebhookEvent.stripe_event_id == "evt_broker_down")).one()
        assert row.status is WebhookStatus.RECEIVED  # left for the sweeper
        db.session.remove()
        db.engine.dispose()


def test_database_down_is_503_so_stripe_retries(app_settings: dict[str, Any], restore_default_celery: None) -> None:
    dead_db = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    broken = create_app(**{**app_settings, "database_url": dead_db})
    body = event_body("customer.updated", {"id": "cus_6", "object": "customer"})
    with broken.app_context():
        response = post(broken.test_client(), body)
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
