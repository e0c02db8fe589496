"""Staff HTTP endpoints of the mail domain (bearer-token auth, JSON only)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from membership.db import utcnow
from membership.errors import Unauthorized
from membership.mail.alerts import alert_report
from membership.staff.models import StaffUser
from membership.staff.services import staff_for_token

bp = Blueprint("mail", __name__)


def require_staff() -> StaffUser:
    """The staff user behind `Authorization: Bearer <token>`, or a 401 problem."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = staff_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise Unauthorized("a valid staff bearer token is required")
    return user


@bp.get("/api/staff/notice-alerts")
def notice_alerts() -> Response:
    """Notices whose legal window closes soon (or closed) unsent, most urgent first."""
    require_staff()
    now = utcnow()
    return jsonify(generated_at=now.isoformat(), alerts=alert_report(now))
