"""Draining the inbox: the endpoint publishes one message per burst (a Redis key set
with NX says a drain is pending), and a drain processes every received row it claims."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from membership.billing import inbox, nudge, processing
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.extensions import db

from .webhook_support import event_body, post


def _post_unhandled(client: Any, n: int) -> None:
    """Events of a type no handler acts on: each is settled in its claim transaction."""
    for i in range(n):
        body = event_body("bench.unhandled_type", {"id": f"obj_{i}", "object": "thing"})
        assert post(client, body).status_code == 200


def _statuses() -> list[WebhookStatus]:
    return list(db.session.scalars(select(WebhookEvent.status).order_by(WebhookEvent.id)))


def test_drain_processes_every_received_row(client: Any) -> None:
    _post_unhandled(client, 3)
    retries: list[int] = []
    assert processing.drain(lambda row_id, delay: retries.append(row_id)) == (3, False)
    assert _statuses() == [WebhookStatus.PROCESSED] * 3 and retries == []
    assert processing.drain(lambda row_id, delay: retries.append(row_id)) == (0, False)  # nothing left


def test_drain_stops_at_its_budget_and_says_rows_may_be_left(client: Any) -> None:
    _post_unhandled(client, 3)
    assert processing.drain(lambda row_id, delay: None, limit=2) == (2, True)
    assert sorted(_statuses()) == sorted([WebhookStatus.PROCESSED] * 2 + [WebhookStatus.RECEIVED])


def test_one_message_per_burst_until_a_worker_clears_the_key(app: Flask, app_settings: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # A long TTL (instead of 50 ms) so the steps below cannot race the key's expiry.
    monkeypatch.setattr(nudge, "NUDGE_TTL_MS", 60_000)
    queue = f"{app_settings['broker_key_prefix']}webhooks"  # kombu's list for the webhooks queue
    broker = redis.Redis.from_url(app_settings["redis_url"])
    try:
        with app.app_context():
            nudge.clear_pending()
            before = broker.llen(queue)
            assert nudge.nudge(inbox.PROCESS_TASK, 987_654_001)  # publishes (no row: a worker skips it)
            assert nudge.nudge(inbox.PROCESS_TASK, 987_654_002)  # a drain is pending: nothing sent
            assert broker.llen(queue) == before + 1
            nudge.clear_pending()  # what a worker does before it looks for rows
            assert nudge.nudge(inbox.PROCESS_TASK, 987_654_003)
            assert broker.llen(queue) == before + 2
            nudge.clear_pending()
    finally:
        broker.close()
