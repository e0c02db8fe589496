"""HTTP for billing: Stripe's webhook endpoint (the staff API for the inbox is staff_views.py).

The webhook view does the inbox pattern and nothing else: verify -> insert (one
autocommit statement) -> enqueue (coalesced: billing/nudge.py) -> 200. Everything that can be slow
or fail runs in the worker.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError

from membership.billing import inbox, nudge
from membership.config import Settings
from membership.errors import ServiceUnavailable
from membership.extensions import limiter
from membership.web.body_limits import WEBHOOK_MAX_BODY, allows_body

log = logging.getLogger(__name__)

bp = Blueprint("billing", __name__)


@bp.post("/webhooks/stripe")
@allows_body(WEBHOOK_MAX_BODY)
def stripe_webhook() -> tuple[Response, int]:
    settings: Settings = current_app.config["SETTINGS"]
    body = request.get_data(cache=False)
    payload = inbox.verify(body, request.headers.get("Stripe-Signature"), settings.stripe_webhook_secret)
    try:
        accepted = inbox.accept(payload, body)
    except (OperationalError, InterfaceError) as exc:  # connection refused, server gone: Stripe must retry
        log.warning("webhook not stored: database unavailable", extra={"error": str(exc.orig)})
        raise ServiceUnavailable("The database is unavailable; retry later.") from None
    if accepted.webhook_event_id is not None:
        nudge.nudge(inbox.PROCESS_TASK, accepted.webhook_event_id)  # skipped while a drain is pending
    return jsonify(received=True, duplicate=accepted.duplicate, id=accepted.stripe_event_id), 200


@limiter.request_filter
def _not_rate_limited() -> bool:
    """Stripe's retries are the back-pressure on the webhook; a 429 would only delay money
    events. A request filter, not `@limiter.exempt`: an exempt route still pays for the
    limiter resolving its limits on every request (about a tenth of this route's CPU)."""
    return request.endpoint == "billing.stripe_webhook"
