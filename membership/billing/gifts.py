"""Gift memberships: bought once (Checkout, mode=payment), fulfilled with a code,
redeemed by another reader.

The code is minted only when the payment has succeeded; only its SHA-256 is
stored, and the code itself travels once, in the `gift_delivered` notice to the
purchaser (who passes it on; the notice row's `code` is redacted after sending).
Redeeming starts `months` of membership from the redemption; a code works once,
and a purchaser cannot redeem their own gift.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from membership.billing.models import GiftMembership
from membership.db import utcnow
from membership.errors import DomainError, InvalidInput
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.notices import record_notice

DAYS_PER_MONTH = 30  # gift terms are counted in 30-day months, printed as such


class GiftCodeInvalid(DomainError):
    status, title, type_slug = 410, "Gift code not valid", "gift-code-invalid"


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def new_code() -> str:
    """GIFT-XXXX-XXXX-XXXX-XXXX: 80 random bits in base32 (no 0/1/8/9 ambiguity)."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "GIFT-" + "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def fulfil(gift: GiftMembership) -> bool:
    """Mint the code and record the notice once; False when already fulfilled. Flushes."""
    if gift.status != "pending_payment":
        return False
    code = new_code()
    now = utcnow()
    gift.code_hash, gift.status, gift.paid_at, gift.delivered_at = hash_code(code), "paid", now, now
    purchaser = db.session.get(Reader, gift.purchaser_reader_id)
    db.session.flush()
    if purchaser is not None and purchaser.deleted_at is None:
        record_notice("gift_delivered", f"gift:{gift.id}", purchaser.email, {"gift_id": gift.id, "code": code},
                      reader_id=purchaser.id)
    return True


def redeem(reader: Reader, code: str) -> GiftMembership:
    """One conditional UPDATE, so two readers racing for one code cannot both win. Flushes."""
    if len(normalise(code)) < 8:
        raise InvalidInput("/code: not a gift code", errors=[{"pointer": "/code", "detail": "not a gift code"}])
    now = utcnow()
    gift = db.session.scalar(select(GiftMembership).where(GiftMembership.code_hash == hash_code(code)))
    if gift is None or gift.status != "paid" or gift.purchaser_reader_id == reader.id:
        raise GiftCodeInvalid("This gift code is unknown, already used, or your own gift.")
    done = db.session.execute(
        update(GiftMembership).where(GiftMembership.id == gift.id, GiftMembership.status == "paid")
        .values(status="redeemed", redeemed_by_reader_id=reader.id, redeemed_at=now,
                expires_at=now + timedelta(days=DAYS_PER_MONTH * gift.months))
    ).rowcount  # type: ignore[attr-defined]
    if done != 1:
        raise GiftCodeInvalid("This gift code is unknown, already used, or your own gift.")
    db.session.refresh(gift)
    return gift
