"""Staff API for the webhook inbox: what needs a look (dead events by default) and a
replay once the cause is fixed, the same as `flask stripe replay --enqueue` but for
staff without shell access. Listing is open to every staff role (finance watches dead
money events); replaying changes state, so it is admin only."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from membership.api import operation
from membership.billing import inbox, processing
from membership.billing.models import WebhookEvent, WebhookStatus
from membership.billing.staff_schemas import WebhookEventOut, WebhookEventsOut, WebhookEventsQuery
from membership.errors import Conflict, NotFound
from membership.extensions import db
from membership.queue import enqueue_after_commit
from membership.staff.auth import require_permission

bp = Blueprint("billing_staff_api", __name__, url_prefix="/api/staff")


@operation(bp, "/webhook-events", "GET", summary="Stripe events in the inbox by status (dead by default)",
           tag="staff", query=WebhookEventsQuery, response=WebhookEventsOut, security=require_permission("inbox:read"))
def list_webhook_events(query: WebhookEventsQuery) -> WebhookEventsOut:
    """Newest first. Dead events ran out of attempts (e.g. a reader Stripe knows and we do
    not); failed ones wait for their next retry."""
    rows = db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.status == query.status)
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc()).limit(query.limit)).all()
    events = [WebhookEventOut.model_validate(r, from_attributes=True) for r in rows]
    return WebhookEventsOut(events=events, status=query.status, count=len(events))


@operation(bp, "/webhook-events/<int:webhook_event_id>/replay", "POST",
           summary="Process a stored Stripe event again", tag="staff", response=WebhookEventOut,
           status=202, security=require_permission("inbox:replay"), errors=(404, 409))
def replay_webhook_event(webhook_event_id: int) -> WebhookEventOut:
    """Fresh attempts, handed to the workers (handlers are idempotent, so replaying a
    processed event changes nothing). Refused while a worker holds the event."""
    row = db.session.get(WebhookEvent, webhook_event_id, with_for_update=True)
    if row is None:
        raise NotFound("No such webhook event.")
    if row.status is WebhookStatus.PROCESSING:
        raise Conflict("A worker is processing this event now; try again when it is done.")
    processing.reset_for_replay([row.id])
    db.session.flush()
    # Published once the operation commits; a broker outage leaves it received: the sweeper sends it.
    enqueue_after_commit(inbox.PROCESS_TASK, row.id)
    return WebhookEventOut.model_validate(row, from_attributes=True)
