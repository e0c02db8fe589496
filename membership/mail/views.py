"""Staff HTTP endpoints of the mail domain (bearer-token auth, JSON only)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from membership.db import utcnow
from membership.mail.alerts import alert_report
from membership.staff.auth import staff_required

bp = Blueprint("mail", __name__)


@bp.get("/api/staff/notice-alerts")
@staff_required
def notice_alerts() -> Response:
    """Notices whose legal window closes soon (or closed) unsent, most urgent first."""
    now = utcnow()
    return jsonify(generated_at=now.isoformat(), alerts=alert_report(now))
