"""Coalesced "there is work in the inbox" messages for the webhook worker.

A Celery message costs about 1 ms to publish and about 3 ms of worker overhead to
consume, more than the event's own processing. The worker drains every received row
it can claim while it runs (`processing.drain`), so one message per burst is enough:
the endpoint publishes only when no drain message is pending, which it learns from
one Redis key set with NX.

Why no row is left behind: the endpoint commits its row *before* it tries the key,
and a worker deletes the key *before* it looks for rows. So a row whose publish was
skipped was committed while the key was set, i.e. before the pending message's worker
deleted it and started looking. The key expires after NUDGE_TTL_MS in case its message
is lost (Redis restart), and the sweeper still re-enqueues anything older than a
minute, as before. While the broker's breaker is open (Redis lost), the endpoint
neither sets the key nor publishes: the row is committed and the sweeper finds it, so
acceptance stays as fast as the database allows.
"""

from __future__ import annotations

import logging

import redis
from flask import Flask, current_app

from membership.breaker import broker_breaker
from membership.config import Settings
from membership.queue import enqueue

log = logging.getLogger(__name__)

NUDGE_TTL_MS = 50
_EXT = "webhook_nudge_redis"
_KEY = "webhooks:drain-pending"


def _client(app: Flask) -> redis.Redis | None:
    """The app's Redis client for the pending key (its own pool), or None when the
    broker is not Redis (the embedded default): then every event is published."""
    if _EXT not in app.extensions:
        settings: Settings = app.config["SETTINGS"]
        client = None
        if settings.broker_url.startswith(("redis://", "rediss://")):
            client = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=0.25, socket_timeout=0.5)
        app.extensions[_EXT] = client
    return app.extensions[_EXT]


def _key(app: Flask) -> str:
    settings: Settings = app.config["SETTINGS"]
    return f"{settings.broker_key_prefix}{_KEY}"


def nudge(task: str, webhook_event_id: int) -> bool:
    """After the row's commit: publish `task(webhook_event_id)` unless a drain is pending.

    Returns False only when a publish was needed and failed (the sweeper covers it).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = _client(app)
    breaker = broker_breaker(app)
    if client is not None:
        if not breaker.allow():
            return False  # Redis is down: the sweeper picks the committed row up
        try:
            if not client.set(_key(app), webhook_event_id, nx=True, px=NUDGE_TTL_MS):
                return True  # a pending message's worker will find this row
        except redis.RedisError as exc:
            breaker.failed(exc)
            return False
    if enqueue(task, webhook_event_id):
        return True
    _clear(app)  # nothing is pending after all: let the next event try again
    return False


def clear_pending() -> None:
    """A worker is about to look for received rows: rows committed from now on must
    publish again. Best effort (the key's TTL and the sweeper cover a failure)."""
    _clear(current_app._get_current_object())  # type: ignore[attr-defined]


def _clear(app: Flask) -> None:
    client = _client(app)
    if client is None or not broker_breaker(app).allow():
        return
    try:
        client.delete(_key(app))
    except redis.RedisError as exc:
        log.debug("nudge key not cleared", extra={"error": str(exc)})
