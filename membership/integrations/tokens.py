"""Entitlement tokens for pages cached at the edge, and the keys that sign them.

Why a signed token: the site (in the browser or at the CDN) checks membership on every
page view without calling us, by verifying a short-lived JWT against our public keys
at /.well-known/jwks.json. Why EdDSA (Ed25519): small keys and signatures, no parameter
choices to get wrong, and supported by PyJWT, jose and WebCrypto.

Lifetime: `SETTINGS.extra["entitlement_token_minutes"]` (default 60), never over a day,
and never past the end of the membership it vouches for. Rotation
(`flask apikeys rotate-signing-key`) makes a new key sign from now on and keeps the
old public key in the JWKS until the last token it signed has expired, so no token
still within its lifetime stops verifying.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from flask import current_app
from sqlalchemy import or_, select

from membership.db import utcnow
from membership.extensions import db
from membership.integrations.entitlements import Answer, answer
from membership.integrations.models import SigningKey
from membership.integrations.sealing import seal, unseal
from membership.staff.models import AuditLog

ALGORITHM = "EdDSA"
DEFAULT_MINUTES = 60
MAX_MINUTES = 24 * 60
CLOCK_SKEW = timedelta(minutes=5)  # verifiers may accept a token this long past exp
NO_TIER = "none"  # a claim is always present (PyJWT's `require` treats null as missing): not a member


def lifetime() -> timedelta:
    minutes = int(current_app.config["SETTINGS"].extra.get("entitlement_token_minutes", DEFAULT_MINUTES))
    return timedelta(minutes=max(1, min(minutes, MAX_MINUTES)))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_signing_key() -> SigningKey:
    """A fresh Ed25519 pair; the private half sealed. Flushes only."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = utcnow().strftime("%Y%m%d") + "-" + secrets.token_hex(4)
    row = SigningKey(kid=kid, algorithm=ALGORITHM, private_sealed=seal(raw_private),
                     public_jwk={"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw_public), "kid": kid,
                                 "alg": ALGORITHM, "use": "sig"})
    db.session.add(row)
    db.session.flush()
    return row


def current_signing_key() -> SigningKey:
    """The newest key that still signs; the first is made on first use."""
    row = db.session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None))
                            .order_by(SigningKey.id.desc()).limit(1))
    return row if row is not None else new_signing_key()


def rotate(actor: str) -> tuple[SigningKey, list[str]]:
    """A new signing key from now on; the retired ones stay published until the tokens
    they signed expire (lifetime plus clock skew). Flushes only."""
    now = utcnow()
    retired = list(db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))))
    for old in retired:
        old.retired_at, old.publish_until = now, now + lifetime() + CLOCK_SKEW
    fresh = new_signing_key()
    db.session.add(AuditLog(actor=actor, action="signing_key.rotate", target_type="signing_key",
                            target_id=fresh.kid, details={"retired": [k.kid for k in retired]}))
    db.session.flush()
    return fresh, [k.kid for k in retired]


def published_keys(at: datetime | None = None) -> list[SigningKey]:
    at = at or utcnow()
    return list(db.session.scalars(select(SigningKey).where(
        or_(SigningKey.retired_at.is_(None), SigningKey.publish_until > at)).order_by(SigningKey.id.desc())))


def jwks() -> dict[str, Any]:
    return {"keys": [dict(k.public_jwk) for k in published_keys()]}


def issue(reader_id: int) -> tuple[str, Answer, datetime]:
    """A token for the reader's membership now: (token, the answer it carries, its expiry)."""
    now = utcnow()
    verdict = answer(reader_id, now)
    expires = now + lifetime()
    if verdict.member and verdict.until is not None and now < verdict.until < expires:
        expires = verdict.until
    key = current_signing_key()
    private = Ed25519PrivateKey.from_private_bytes(unseal(key.private_sealed))
    claims = {
        "iss": current_app.config["SETTINGS"].public_url, "sub": str(reader_id), "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()), "member": verdict.member, "tier": verdict.tier or NO_TIER, "reason": verdict.reason or "none",
    }
    token = jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token, verdict, expires
