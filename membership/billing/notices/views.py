"""Staff HTTP endpoints of the mail domain, on the operation registry (in
/api/openapi.json, validated and fuzzed like every other staff operation)."""

from __future__ import annotations

from flask import Blueprint

from membership.api import operation
from membership.billing.notices.alerts import alert_report
from membership.db import utcnow
from membership.mail.schemas import NoticeAlertsOut
from membership.staff.auth import require_permission

bp = Blueprint("mail", __name__, url_prefix="/api/staff")


@operation(bp, "/notice-alerts", "GET", summary="Unsent notices whose legal window closes soon or closed",
           tag="staff", response=NoticeAlertsOut, security=require_permission("notices:read"))
def notice_alerts() -> NoticeAlertsOut:
    """Most urgent first, alerted or not yet. Finance, support and admin may look (they
    hold the refund exposure and answer the reader); editors may not: the alerts name
    readers, and editors have no member access (membership/staff/roles.py)."""
    now = utcnow()
    return NoticeAlertsOut.model_validate({"generated_at": now, "alerts": alert_report(now)})
