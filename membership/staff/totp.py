"""The console's second factor: TOTP (RFC 6238, 30-second steps, 6 digits) and
one-time recovery codes.

Required for admin and finance (refunds, erasure, every finance figure); anyone who has
enrolled is asked for it too. The secret is sealed at rest under a key derived for this
purpose only (membership/sealing.py), so a copy of the database gives no one the codes.
A code is accepted once (`last_step`): one seen over a shoulder cannot be used again.
After `MAX_FAILURES` wrong codes in a row the account refuses every code for `LOCK`
(wrong recovery codes count too), so guessing a 6-digit code is hopeless even with a
stolen sign-in link. Recovery codes are shown once at enrolment and stored as SHA-256.

Services flush; the caller's unit of work commits (a failure is counted by the caller
committing before it answers 422).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, select, update

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.sealing import sealer
from membership.staff.console_sessions import hash_secret
from membership.staff.models import AuditLog, StaffRecoveryCode, StaffTotp, StaffUser

REQUIRED_FOR = frozenset({StaffRole.ADMIN, StaffRole.FINANCE})
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
RECOVERY_CODES = 10
_LABEL = b"staff-totp-secret"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # wrong | locked | used
    locked_until: datetime | None = None


def required(user: StaffUser) -> bool:
    """Whether this person must pass the second factor before any console page."""
    return user.role in REQUIRED_FOR or enrolled(user)


def _row(user: StaffUser) -> StaffTotp | None:
    return db.session.scalar(select(StaffTotp).where(StaffTotp.staff_user_id == user.id))


def enrolled(user: StaffUser) -> bool:
    row = _row(user)
    return row is not None and row.enrolled_at is not None


def _seal(secret: str) -> str:
    return sealer(_LABEL).encrypt(secret.encode()).decode()


def _open(sealed: str) -> str:
    return sealer(_LABEL).decrypt(sealed.encode()).decode()


def pending_secret(user: StaffUser) -> str:
    """The secret being enrolled: kept while the person sets up their app (a reload
    shows the same key), new only when none is pending. Flushes."""
    row = _row(user)
    if row is not None and row.enrolled_at is not None:
        raise ValueError("already enrolled")
    if row is None:
        row = StaffTotp(staff_user_id=user.id, secret_sealed=_seal(pyotp.random_base32()))
        db.session.add(row)
        db.session.flush()
    return _open(row.secret_sealed)


def provisioning_uri(user: StaffUser, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _locked(row: StaffTotp, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _fail(row: StaffTotp, user: StaffUser, now: datetime) -> Verdict:
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.locked_until, row.failures = now + LOCK, 0
        db.session.add(AuditLog(actor=user.email, action="console.totp.locked", target_type="staff_user",
                                target_id=str(user.id), details={"until": row.locked_until.isoformat()}))
    db.session.flush()
    locked = _locked(row, now)
    return Verdict(False, "locked" if locked else "wrong", row.locked_until if locked else None)


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The step (this one or one either side, for clock drift) whose code this is, if any
    and not yet used."""
    totp = pyotp.TOTP(secret)
    current = int(time.time()) // 30
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * 30), code):
            return step
    return None


def check(user: StaffUser, code: str) -> Verdict:
    """A 6-digit code from the app, or a recovery code (used up). Counts failures and
    locks (module docstring). Flushes."""
    now = utcnow()
    row = _row(user)
    if row is None:
        return Verdict(False, "wrong")
    if _locked(row, now):
        return Verdict(False, "locked", row.locked_until)
    cleaned = _normalise(code)
    if cleaned.isdigit() and len(cleaned) == 6 and row.enrolled_at is not None:
        step = _matching_step(_open(row.secret_sealed), cleaned, row.last_step)
        if step is None:
            return _fail(row, user, now)
        row.last_step, row.failures = step, 0
        db.session.flush()
        return Verdict(True)
    if row.enrolled_at is not None and _use_recovery_code(user, cleaned, now):
        row.failures = 0
        db.session.add(AuditLog(actor=user.email, action="console.recovery_code.used", target_type="staff_user",
                                target_id=str(user.id), details={"left": recovery_codes_left(user)}))
        db.session.flush()
        return Verdict(True)
    return _fail(row, user, now)


def _use_recovery_code(user: StaffUser, cleaned: str, now: datetime) -> bool:
    used = db.session.execute(
        update(StaffRecoveryCode).where(StaffRecoveryCode.staff_user_id == user.id,
                                        StaffRecoveryCode.code_hash == hash_secret(cleaned),
                                        StaffRecoveryCode.used_at.is_(None))
        .values(used_at=now).returning(StaffRecoveryCode.id)).scalar_one_or_none()
    return used is not None


def confirm_enrolment(user: StaffUser, code: str) -> list[str] | None:
    """The first code proves the app holds the key: enrolment done, and the recovery codes
    (shown once, stored hashed) returned. None (a failure counted) for a wrong code."""
    now = utcnow()
    row = _row(user)
    if row is None or row.enrolled_at is not None:
        return None
    if _locked(row, now):
        return None
    cleaned = _normalise(code)
    step = _matching_step(_open(row.secret_sealed), cleaned, None) if len(cleaned) == 6 else None
    if step is None:
        _fail(row, user, now)
        return None
    row.enrolled_at, row.last_step, row.failures = now, step, 0
    codes = new_recovery_codes(user)
    db.session.add(AuditLog(actor=user.email, action="console.totp.enrolled", target_type="staff_user",
                            target_id=str(user.id), details={}))
    db.session.flush()
    return codes


def new_recovery_codes(user: StaffUser) -> list[str]:
    """A fresh set (the old ones stop working). Flushes."""
    db.session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_user_id == user.id))
    codes = ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
             for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(StaffRecoveryCode(staff_user_id=user.id, code_hash=hash_secret(_normalise(code))))
    db.session.flush()
    return codes


def recovery_codes_left(user: StaffUser) -> int:
    return len(list(db.session.scalars(select(StaffRecoveryCode.id).where(
        StaffRecoveryCode.staff_user_id == user.id, StaffRecoveryCode.used_at.is_(None)))))


def reset(user: StaffUser, actor: str) -> None:
    """Forget the second factor (a lost phone and no recovery code): the person enrols
    again at their next sign-in. Audited. Flushes."""
    db.session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_user_id == user.id))
    db.session.execute(delete(StaffTotp).where(StaffTotp.staff_user_id == user.id))
    db.session.add(AuditLog(actor=actor, action="staff.totp.reset", target_type="staff_user",
                            target_id=str(user.id), details={"email": user.email}))
    db.session.flush()
