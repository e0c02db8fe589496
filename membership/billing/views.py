"""HTTP for billing: Stripe's webhook endpoint and the staff view of the inbox.

The webhook view does the inbox pattern and nothing else: verify -> insert ->
commit -> enqueue (coalesced: billing/nudge.py) -> 200. Everything that can be slow
or fail runs in the worker.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError

from membership.billing import inbox, nudge
from membership.config import Settings
from membership.errors import ServiceUnavailable
from membership.extensions import db, limiter
from membership.staff.auth import staff_required

log = logging.getLogger(__name__)
bp = Blueprint("billing", __name__)


@bp.post("/webhooks/stripe")
@limiter.exempt  # Stripe's retries are the back-pressure; a 429 would only delay money events
def stripe_webhook() -> tuple[Response, int]:
    settings: Settings = current_app.config["SETTINGS"]
    body = request.get_data(cache=False)
    payload = inbox.verify(body, request.headers.get("Stripe-Signature"), settings.stripe_webhook_secret)
    try:
        accepted = inbox.store(payload, body)
        db.session.commit()
    except (OperationalError, InterfaceError) as exc:  # connection refused, server gone: Stripe must retry
        db.session.rollback()
        log.warning("webhook not stored: database unavailable", extra={"error": str(exc.orig)})
        raise ServiceUnavailable("The database is unavailable; retry later.") from None
    if accepted.webhook_event_id is not None:
        nudge.nudge(inbox.PROCESS_TASK, accepted.webhook_event_id)  # skipped while a drain is pending
    return jsonify(received=True, duplicate=accepted.duplicate, id=accepted.stripe_event_id), 200


@bp.get("/api/staff/webhook-events")
@staff_required
def staff_webhook_events() -> Response:
    """Events staff must look at (dead by default), newest first."""
    status = request.args.get("status", "dead")
    limit = request.args.get("limit", "100")
    rows = inbox.list_events(status, limit)
    return jsonify(events=rows, status=status, count=len(rows))
