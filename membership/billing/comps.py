"""Complimentary memberships (staff grants without payment) and the staff view of gifts.

A comp names a membership plan and an expiry (at most MAX_COMP_DAYS ahead: an
open-ended comp is a forgotten comp); revoking is immediate. Every change is in
the audit log with the staff member's email.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from membership.billing.models import ComplimentaryMembership, GiftMembership, Plan, PlanKind
from membership.db import utcnow
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.identity.models import Reader
from membership.staff.models import AuditLog, StaffUser

MAX_COMP_DAYS = 5 * 366


def _bad(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(f"{pointer}: {detail}", errors=[{"pointer": pointer, "detail": detail}])


def grant_comp(staff: StaffUser, reader_id: int, plan_code: str, expires_at: datetime, reason: str) -> ComplimentaryMembership:
    reader = db.session.get(Reader, reader_id)
    if reader is None or reader.deleted_at is not None:
        raise _bad("/reader_id", "no such reader")
    plan = db.session.scalar(select(Plan).where(Plan.code == plan_code, Plan.kind == PlanKind.MEMBERSHIP))
    if plan is None:
        raise _bad("/plan", "not a membership plan")
    now = utcnow()
    if expires_at.tzinfo is None:
        raise _bad("/expires_at", "give a time zone (e.g. Z)")
    if not now < expires_at <= now + timedelta(days=MAX_COMP_DAYS):
        raise _bad("/expires_at", f"must be in the future and within {MAX_COMP_DAYS} days")
    comp = ComplimentaryMembership(reader_id=reader.id, plan_id=plan.id, granted_by_staff_id=staff.id,
                                   reason=reason, starts_at=now, expires_at=expires_at)
    db.session.add(comp)
    db.session.flush()
    db.session.add(AuditLog(actor=staff.email, action="comp.grant", target_type="complimentary_membership",
                            target_id=str(comp.id), details={"reader_id": reader.id, "plan": plan.code,
                                                             "expires_at": expires_at.isoformat()}))
    db.session.flush()
    return comp


def revoke_comp(staff: StaffUser, comp_id: int) -> ComplimentaryMembership:
    comp = db.session.get(ComplimentaryMembership, comp_id)
    if comp is None:
        raise NotFound("No such complimentary membership.")
    if comp.revoked_at is not None:
        raise Conflict("Already revoked.")
    comp.revoked_at = utcnow()
    db.session.add(AuditLog(actor=staff.email, action="comp.revoke", target_type="complimentary_membership",
                            target_id=str(comp.id)))
    db.session.flush()
    return comp


def list_comps(reader_id: int | None) -> list[ComplimentaryMembership]:
    query = select(ComplimentaryMembership).order_by(ComplimentaryMembership.id.desc()).limit(500)
    if reader_id is not None:
        query = query.where(ComplimentaryMembership.reader_id == reader_id)
    return list(db.session.scalars(query))


def list_gifts(status: str | None) -> list[GiftMembership]:
    query = select(GiftMembership).order_by(GiftMembership.id.desc()).limit(500)
    if status is not None:
        query = query.where(GiftMembership.status == status)
    return list(db.session.scalars(query))
