"""Staff HTTP endpoints of the mail domain, on the operation registry (in
/api/openapi.json, validated and fuzzed like every other staff operation)."""

from __future__ import annotations

from flask import Blueprint

from membership.api import operation
from membership.db import utcnow
from membership.mail.alerts import alert_report
from membership.mail.schemas import NoticeAlertsOut
from membership.staff.views import STAFF_ANY_ROLE

bp = Blueprint("mail", __name__, url_prefix="/api/staff")


@operation(bp, "/notice-alerts", "GET", summary="Unsent notices whose legal window closes soon or closed",
           tag="staff", response=NoticeAlertsOut, security=STAFF_ANY_ROLE)
def notice_alerts() -> NoticeAlertsOut:
    """Most urgent first, alerted or not yet: any staff role may look, since whoever
    notices a dead relay or a bouncing address should be able to see what it held up."""
    now = utcnow()
    return NoticeAlertsOut.model_validate({"generated_at": now, "alerts": alert_report(now)})
