"""Staff accounts and their API tokens: issue (CLI), check (every staff request), revoke (CLI)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from membership.db import utcnow
from membership.enums import StaffRole
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.staff.models import ApiToken, AuditLog, StaffUser

TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff_user(email: str, role: StaffRole, name: str = "",
                      expires_days: int = TOKEN_DAYS) -> tuple[StaffUser, str]:
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
    db.session.add(AuditLog(actor="cli", action="staff.create", target_type="staff_user", target_id=str(user.id),
                            details={"email": email, "role": role.value}))
    return user, issue_token(user, expires_days)


def issue_token(user: StaffUser, expires_days: int = TOKEN_DAYS) -> str:
    """A new token for an existing staff member (after a revoke or an expiry). Flushes only."""
    if not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {expires_days}")
    token = "stf_" + secrets.token_urlsafe(32)
    row = ApiToken(staff_user_id=user.id, name="cli", token_hash=hash_token(token),
                   expires_at=utcnow() + timedelta(days=expires_days))
    db.session.add(row)
    db.session.flush()
    db.session.add(AuditLog(actor="cli", action="staff.token.issue", target_type="api_token", target_id=str(row.id),
                            details={"email": user.email, "expires_at": row.expires_at.isoformat()}))
    db.session.flush()
    return token


def staff_by_email(email: str) -> StaffUser:
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no staff user {email.strip().lower()}")
    return user


def revoke_tokens(email: str) -> tuple[StaffUser, int]:
    """Revoke every live token of one staff member at once (a lost laptop, a leaver).

    Returns how many were live; flushes only."""
    user = staff_by_email(email)
    now = utcnow()
    ids = list(db.session.scalars(select(ApiToken.id).where(ApiToken.staff_user_id == user.id,
                                                            ApiToken.revoked_at.is_(None))))
    if ids:
        db.session.execute(update(ApiToken).where(ApiToken.id.in_(ids)).values(revoked_at=now))
    db.session.add(AuditLog(actor="cli", action="staff.token.revoke", target_type="staff_user",
                            target_id=str(user.id), details={"email": user.email, "token_ids": ids}))
    db.session.flush()
    return user, len(ids)


@dataclass(frozen=True)
class TokenCheck:
    """A token's verdict: the staff member and token when usable, else why not."""

    staff: StaffUser | None
    token: ApiToken | None
    reason: str = ""  # unknown | revoked | expired | disabled
    detail: str = ""


def check_token(token: str) -> TokenCheck:
    """Unknown, revoked, expired or belonging to a disabled account each say so: the
    person holding the token needs to know whether to ask for a new one."""
    row = db.session.execute(
        select(StaffUser, ApiToken).join(ApiToken, ApiToken.staff_user_id == StaffUser.id)
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        return TokenCheck(None, None, "unknown", "This staff token is not known.")
    staff, api_token = row
    if api_token.revoked_at is not None:
        return TokenCheck(None, None, "revoked", f"This staff token was revoked at {api_token.revoked_at.isoformat()}.")
    if api_token.expires_at <= utcnow():
        return TokenCheck(None, None, "expired", f"This staff token expired at {api_token.expires_at.isoformat()}.")
    if staff.disabled_at is not None:
        return TokenCheck(None, None, "disabled", "This staff account is disabled.")
    return TokenCheck(staff, api_token)


def staff_for_token(token: str) -> StaffUser | None:
    """The enabled staff member behind a usable token, else None."""
    return check_token(token).staff
