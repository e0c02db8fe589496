"""Outbound webhook endpoints: add (the secret shown once), change, disable and enable,
the delivery log, and replay.

URLs: http(s) only, and https in production (the body carries membership facts, and
with `members:read` personal data). Replay puts a given-up or delivered event back at
the head of its line's queue now; it is the one way an event reaches a receiver out of
order, because an admin asked for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlparse

from flask import current_app
from sqlalchemy import select

from membership.db import utcnow
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.integrations.models import DeliveryStatus, OutboundAttempt, OutboundDelivery, OutboundEndpoint
from membership.integrations.outbox import DELIVER_TASK, check_types
from membership.integrations.scopes import check_scopes
from membership.integrations.sealing import seal
from membership.integrations.signing import new_secret
from membership.queue import enqueue_after_commit
from membership.staff.models import AuditLog


def _check_url(url: str) -> str:
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 2000:
        raise InvalidInput("the endpoint URL must be an absolute http(s) URL")
    if parsed.scheme != "https" and current_app.config["SETTINGS"].is_production:
        raise InvalidInput("in production the endpoint URL must use https")
    return url


def _types_and_scopes(types: Sequence[str], scopes: Sequence[str]) -> tuple[list[str], list[str]]:
    if not types:
        raise InvalidInput("choose at least one event type")
    try:
        return check_types(list(types)), check_scopes(list(scopes))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def add_endpoint(url: str, types: Sequence[str], actor: str, scopes: Sequence[str] = (),
                 description: str = "") -> tuple[OutboundEndpoint, str]:
    """A new endpoint; the `whsec_` secret is returned once (stored sealed). Flushes only."""
    checked_types, checked_scopes = _types_and_scopes(types, scopes)
    secret = new_secret()
    row = OutboundEndpoint(url=_check_url(url), description=description.strip()[:200], event_types=checked_types,
                           scopes=checked_scopes, secret_sealed=seal(secret.encode()), created_by=actor)
    db.session.add(row)
    db.session.flush()
    _audit(actor, "webhook_endpoint.add", row, {"url": row.url, "events": checked_types, "scopes": checked_scopes})
    return row, secret


def get_endpoint(endpoint_id: int) -> OutboundEndpoint:
    row = db.session.get(OutboundEndpoint, endpoint_id)
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row


def list_endpoints() -> list[OutboundEndpoint]:
    return list(db.session.scalars(select(OutboundEndpoint).order_by(OutboundEndpoint.id)))


def update_endpoint(endpoint_id: int, actor: str, *, url: str | None = None, types: Sequence[str] | None = None,
                    scopes: Sequence[str] | None = None, enabled: bool | None = None) -> OutboundEndpoint:
    """Change what an endpoint gets; enabling it clears its failure count and sends
    what waited. Flushes only."""
    row = get_endpoint(endpoint_id)
    changes: dict[str, object] = {}
    if url is not None:
        row.url = changes["url"] = _check_url(url)
    if types is not None or scopes is not None:
        checked_types, checked_scopes = _types_and_scopes(types if types is not None else row.event_types,
                                                          scopes if scopes is not None else row.scopes)
        row.event_types, row.scopes = checked_types, checked_scopes
        changes.update(events=checked_types, scopes=checked_scopes)
    if enabled is True and row.disabled_at is not None:
        row.disabled_at, row.disabled_reason, row.consecutive_failures = None, None, 0
        changes["enabled"] = True
        _wake(row.id)
    elif enabled is False and row.disabled_at is None:
        row.disabled_at, row.disabled_reason = utcnow(), f"disabled by {actor}"
        changes["enabled"] = False
    db.session.flush()
    _audit(actor, "webhook_endpoint.update", row, changes)
    return row


def deliveries(endpoint_id: int, status: DeliveryStatus | None = None, before_id: int | None = None,
               limit: int = 50) -> list[OutboundDelivery]:
    get_endpoint(endpoint_id)
    stmt = select(OutboundDelivery).where(OutboundDelivery.endpoint_id == endpoint_id)
    if status is not None:
        stmt = stmt.where(OutboundDelivery.status == status)
    if before_id is not None:
        stmt = stmt.where(OutboundDelivery.id < before_id)
    return list(db.session.scalars(stmt.order_by(OutboundDelivery.id.desc()).limit(limit)))


def attempts(endpoint_id: int, before_id: int | None = None, limit: int = 50) -> list[OutboundAttempt]:
    """The delivery log, newest first: every try with the receiver's status code."""
    get_endpoint(endpoint_id)
    stmt = select(OutboundAttempt).where(OutboundAttempt.endpoint_id == endpoint_id)
    if before_id is not None:
        stmt = stmt.where(OutboundAttempt.id < before_id)
    return list(db.session.scalars(stmt.order_by(OutboundAttempt.id.desc()).limit(limit)))


def replay(endpoint_id: int, delivery_id: int, actor: str) -> OutboundDelivery:
    """Send one event again now (a given-up one, or a delivered one the receiver lost). Flushes."""
    row = db.session.get(OutboundDelivery, delivery_id)
    if row is None or row.endpoint_id != endpoint_id:
        raise NotFound(f"no delivery {delivery_id} for webhook endpoint {endpoint_id}")
    if row.status == DeliveryStatus.PENDING:
        raise Conflict("this delivery is still pending; it will be tried on its schedule")
    row.status, row.attempts, row.next_attempt_at, row.delivered_at = DeliveryStatus.PENDING, 0, utcnow(), None
    db.session.flush()
    _wake(endpoint_id, row.reader_id)
    _audit(actor, "webhook_delivery.replay", get_endpoint(endpoint_id), {"delivery_id": row.id})
    return row


def replay_failed(endpoint_id: int, actor: str) -> int:
    """Every given-up delivery of the endpoint, again, in their original order per member."""
    rows = list(db.session.scalars(select(OutboundDelivery).where(
        OutboundDelivery.endpoint_id == endpoint_id, OutboundDelivery.status == DeliveryStatus.FAILED)))
    get_endpoint(endpoint_id)
    now = utcnow()
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, now
    db.session.flush()
    for reader_id in {r.reader_id for r in rows}:
        _wake(endpoint_id, reader_id)
    _audit(actor, "webhook_delivery.replay_failed", get_endpoint(endpoint_id), {"count": len(rows)})
    return len(rows)


def _wake(endpoint_id: int, reader_id: int | None = None) -> None:
    if reader_id is not None:
        enqueue_after_commit(DELIVER_TASK, endpoint_id, reader_id)
    else:
        enqueue_after_commit("workers.tasks.integrations.sweep_outbound")


def _audit(actor: str, action: str, row: OutboundEndpoint, details: dict[str, object]) -> None:
    db.session.add(AuditLog(actor=actor, action=action, target_type="webhook_endpoint", target_id=str(row.id),
                            details=details))
    db.session.flush()
