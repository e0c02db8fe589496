"""Staff API (bearer token): complimentary memberships, gift memberships and the audit log.

Every staff operation, here and in other domains, declares the permission it needs
with `security=require_permission(...)` (membership/staff/auth.py; which roles hold
what is membership/staff/roles.py). This blueprint also installs the app-wide hook
that writes the audit entry of every staff write and export (audit.py)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from membership.api import operation
from membership.extensions import db
from membership.staff.audit import after_staff_request
from membership.staff.auth import require_permission
from membership.staff.models import AuditLog
from membership.staff.schemas import (
    AuditEntryOut,
    AuditOut,
    AuditQuery,
)

bp = Blueprint("staff_api", __name__, url_prefix="/api/staff")
bp.after_app_request(after_staff_request)


@operation(bp, "/audit", "GET", summary="The staff audit log, newest first", tag="staff", query=AuditQuery,
           response=AuditOut, security=require_permission("audit:read"))
def audit_log(query: AuditQuery) -> AuditOut:
    """Every staff write and export (refused attempts too, with their status), plus the
    operators' commands (actor `cli`). Page backwards with `before_id`."""
    stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(query.limit + 1)
    if query.actor is not None:
        stmt = stmt.where(AuditLog.actor == query.actor.strip().lower())
    if query.action is not None:
        stmt = stmt.where(AuditLog.action == query.action)
    if query.since is not None:
        stmt = stmt.where(AuditLog.at >= query.since)
    if query.before_id is not None:
        stmt = stmt.where(AuditLog.id < query.before_id)
    rows = list(db.session.scalars(stmt))
    page = rows[:query.limit]
    more = len(rows) > query.limit
    return AuditOut(entries=[AuditEntryOut.model_validate(r, from_attributes=True) for r in page],
                    count=len(page), next_before_id=page[-1].id if more else None)
