"""Staff accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from membership.enums import StaffRole
from membership.errors import Conflict, InvalidInput
from membership.extensions import db
from membership.staff.models import ApiToken, AuditLog, StaffUser


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff_user(email: str, role: StaffRole, name: str = "") -> tuple[StaffUser, str]:
    """Staff are created by operators (CLI); the token is shown once and stored hashed.

    Flushes only: the caller commits.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"'{email}' is not an email address")
    if db.session.scalar(select(StaffUser).where(StaffUser.email == email)):
        raise Conflict(f"staff user {email} exists")
    user = StaffUser(email=email, role=role, name=name)
    db.session.add(user)
    db.session.flush()
    token = "stf_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(staff_user_id=user.id, name="cli", token_hash=hash_token(token)))
    db.session.add(AuditLog(actor="cli", action="staff.create", target_type="staff_user", target_id=str(user.id)))
    db.session.flush()
    return user, token


def staff_for_token(token: str) -> StaffUser | None:
    """Resolve a bearer token to an enabled staff user (None when unknown or revoked)."""
    row = db.session.execute(
        select(StaffUser, ApiToken)
        .join(ApiToken, ApiToken.staff_user_id == StaffUser.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or row[0].disabled_at is not None:
        return None
    return row[0]
