"""Magic-link tokens: random, stored only as SHA-256, single use, short-lived.

Consumption is one conditional UPDATE (unused, unexpired, right purpose), so two
clicks racing each other cannot both sign in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update

from membership.db import utcnow
from membership.errors import DomainError
from membership.extensions import db
from membership.identity.models import LoginToken, Reader, TokenPurpose

# Sign-in links live 15 minutes (the issue). Confirmation links live a day: people
# confirm a sign-up later than they click a sign-in link they just asked for.
LIFETIME = {TokenPurpose.SIGN_IN: timedelta(minutes=15), TokenPurpose.CONFIRM: timedelta(hours=24)}


class TokenInvalid(DomainError):
    status, title, type_slug = 410, "Link no longer valid", "token-invalid"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(reader: Reader, purpose: TokenPurpose) -> str:
    """A new token for the reader; only its hash is stored. Flushes."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginToken(token_hash=hash_token(token), reader_id=reader.id, purpose=purpose,
                              expires_at=utcnow() + LIFETIME[purpose]))
    db.session.flush()
    return token


def issue_decoy_token(purpose: TokenPurpose) -> str:
    """The same minting, hashing and INSERT as `issue_token`, for an address with no
    account (services.request_sign_in: equal work, equal time). The row names no reader
    and is born used and expired, so it can never sign anyone in. Flushes."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(LoginToken(token_hash=hash_token(token), reader_id=None, purpose=purpose, expires_at=now,
                              used_at=now))
    db.session.flush()
    return token


def consume_token(token: str, purpose: TokenPurpose) -> Reader:
    """Mark the token used and return its reader; 410 if unknown, expired or used."""
    now = utcnow()
    reader_id = db.session.execute(
        update(LoginToken)
        .where(LoginToken.token_hash == hash_token(token), LoginToken.purpose == purpose,
               LoginToken.used_at.is_(None), LoginToken.expires_at > now)
        .values(used_at=now)
        .returning(LoginToken.reader_id)
    ).scalar_one_or_none()
    reader = db.session.get(Reader, reader_id) if reader_id is not None else None
    if reader is None or reader.deleted_at is not None:
        raise TokenInvalid("This link is invalid, expired or already used. Ask for a new one.")
    return reader
