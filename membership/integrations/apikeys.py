"""Server-to-server API keys: create (shown once), revoke, check.

Why hashed with plain SHA-256 and not a slow hash: the key is 32 random bytes, so there
is nothing to guess; a slow hash would only slow every entitlement call. The `mk_`
prefix makes a leaked key recognisable to secret scanners and to whoever finds it.
Keys do not expire on their own (a site's back end cannot re-issue itself one); they
are revoked by name, and `last_used_at` (written at most once a minute) shows which
keys are still in use.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from membership.db import utcnow
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.integrations.models import ApiKey
from membership.integrations.scopes import check_scopes
from membership.staff.models import AuditLog
from membership.unit_of_work import checkpoint

KEY_PREFIX = "mk_"
TOUCH_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(name: str, scopes: list[str], actor: str) -> tuple[ApiKey, str]:
    """A new key; the plain key is returned once and never stored. Flushes only."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a key's name is 1 to 100 characters")
    if not scopes:
        raise InvalidInput("give the key at least one scope")
    try:
        scopes = check_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if db.session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"an API key named {name!r} exists (revoked keys keep their name)")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[:10], key_hash=hash_key(key), scopes=scopes, created_by=actor)
    db.session.add(row)
    db.session.flush()
    db.session.add(AuditLog(actor=actor, action="apikey.create", target_type="api_key", target_id=str(row.id),
                            details={"name": name, "scopes": scopes}))
    db.session.flush()
    return row, key


def revoke_key(name: str, actor: str) -> ApiKey:
    """Revoke by name now; the next call with it is a 401. Flushes only."""
    row = db.session.scalar(select(ApiKey).where(ApiKey.name == name.strip()))
    if row is None:
        raise NotFound(f"no API key named {name.strip()!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.add(AuditLog(actor=actor, action="apikey.revoke", target_type="api_key",
                                target_id=str(row.id), details={"name": row.name}))
        db.session.flush()
    return row


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


@dataclass(frozen=True)
class KeyCheck:
    key_id: int | None
    scopes: tuple[str, ...] = ()
    detail: str = ""


def check_key(key: str) -> KeyCheck:
    """The key's id and scopes, or why it is refused (unknown or revoked)."""
    row = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None:
        return KeyCheck(None, (), "This API key is not known.")
    if row.revoked_at is not None:
        return KeyCheck(None, (), f"This API key was revoked at {row.revoked_at.isoformat()}.")
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        db.session.execute(update(ApiKey).where(
            ApiKey.id == row.id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - TOUCH_EVERY),
        ).values(last_used_at=now))
        checkpoint()  # before the operation's own unit of work: a refused request still dates the key's use
    return KeyCheck(row.id, tuple(row.scopes))
