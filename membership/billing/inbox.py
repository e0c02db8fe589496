"""The webhook inbox: verify, store once, answer fast.

Stripe retries anything that is not a 2xx for three days, so the endpoint does the
least that makes the event safe: check the signature on the raw bytes, insert the
row keyed by Stripe's event id (a duplicate inserts nothing), and let the worker do
the rest. A broker outage is not our caller's problem (the row is the truth and the
sweeper re-enqueues); a database outage is, so that answers 503 and Stripe retries.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from membership import connections
from membership.billing.gateway.errors import SignatureInvalid
from membership.billing.gateway.webhooks import verify_signature
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.db import utcnow
from membership.errors import DomainError
from membership.extensions import db

PROCESS_TASK = "workers.tasks.webhooks.process_event"


class InvalidWebhook(DomainError):
    """Anything we must not store: a bad signature or a body that is not a snapshot event."""

    status, title, type_slug = 400, "Invalid webhook", "invalid-webhook"


@dataclass(frozen=True)
class Accepted:
    webhook_event_id: int | None  # None: a duplicate, nothing new stored
    stripe_event_id: str
    type: str

    @property
    def duplicate(self) -> bool:
        return self.webhook_event_id is None


def verify(body: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """Check the signature over the exact bytes received, then parse.

    The gateway's `verify_signature` is the SDK's check (any v1 matches, 300 s
    tolerance); parsing ourselves avoids building a StripeObject we never use and
    lets us refuse non-object JSON and thin events with a clear 400.
    """
    try:
        verify_signature(body, signature, secret)
    except SignatureInvalid as exc:
        raise InvalidWebhook(f"signature check failed: {exc.user_message or exc}") from None
    except ValueError:  # the body is not UTF-8
        raise InvalidWebhook("the body is not UTF-8 text") from None
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidWebhook("the body is not JSON") from None
    if not isinstance(payload, dict) or payload.get("object") != "event":
        raise InvalidWebhook("the body is not a snapshot event (thin v2 events are not accepted here)")
    if not isinstance(payload.get("id"), str) or not isinstance(payload.get("type"), str):
        raise InvalidWebhook("the event has no id or type")
    if not isinstance(payload.get("data"), dict):
        raise InvalidWebhook("the event has no data object")
    return payload


def store(conn: Connection, payload: dict[str, Any], body: bytes) -> Accepted:
    """INSERT ... ON CONFLICT DO NOTHING on the event id, on `conn` (its transaction rules).

    Concurrent copies are settled by the unique index: the second insert waits for the
    first transaction and then inserts nothing.
    """
    new_id = conn.execute(_insert_stmt(conn.dialect.name), _values(payload, body)).scalar_one_or_none()
    return Accepted(int(new_id) if new_id is not None else None, payload["id"], payload["type"])


def accept(payload: dict[str, Any], body: bytes) -> Accepted:
    """Store a verified event durably: one autocommit statement, so the row is committed
    when this returns (one round trip; the endpoint needs no ORM session)."""
    with connections.autocommit_connection() as conn:
        return store(conn, payload, body)


def _values(payload: dict[str, Any], body: bytes) -> dict[str, Any]:
    obj = (payload.get("data") or {}).get("object") or {}
    object_id = obj.get("id") if isinstance(obj, dict) else None
    return {
        "stripe_event_id": payload["id"][:255], "type": payload["type"][:128],
        "api_version": (payload.get("api_version") or None), "object_id": str(object_id)[:255] if object_id else None,
        "stripe_created": int(payload.get("created") or 0), "payload": body.decode("utf-8"),
        "status": WebhookStatus.RECEIVED.value, "attempts": 0, "received_at": utcnow(),
    }


@functools.cache
def _insert_stmt(dialect: str) -> Any:
    """Built once per dialect with bound parameters: building and cache-keying a fresh
    statement per request cost more CPU than executing it (this is the hot path; Core,
    not the ORM-enabled insert, for the same reason)."""
    table = cast(Table, WebhookEvent.__table__)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    params = {name: bindparam(name, type_=table.c[name].type) for name in _COLUMNS}
    return (insert(table).values(params)
            .on_conflict_do_nothing(index_elements=["stripe_event_id"]).returning(table.c.id))


_COLUMNS = ("stripe_event_id", "type", "api_version", "object_id", "stripe_created", "payload", "status",
            "attempts", "received_at")


def find(stripe_event_id: str) -> WebhookEvent | None:
    return db.session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == stripe_event_id))
