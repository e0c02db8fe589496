"""Gift memberships: bought once (Checkout, mode=payment), fulfilled with a code,
redeemed by another reader.

The code is minted only when the payment has succeeded; only its SHA-256 is
stored, and the code itself travels once, in the `gift_delivered` notice to the
purchaser (who passes it on; the notice row's `code` is redacted after sending).
Redeeming starts `months` of membership from the redemption; a code works once,
and a purchaser cannot redeem their own gift.

A gift bought with a delivery date (`GiftIn.deliver_on`, the gift page) goes to the
recipient instead: the same `gift_delivered` notice, addressed to the recipient's
email and due on that day (08:00 in the outlet's time zone; at once when the day is
today). The notice row is the schedule: the send task runs when it is due, and the
beat's sweeper (workers/tasks/mail.py `schedule_notices`) enqueues rows that come due
later, so no column is needed for the date. The code waits sealed in the row
(mail/secrets.py) and the link in the mail (`/redeem?code=...`) fills it in. The
purchaser gets the payment receipt, as for any payment.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from membership.billing.models import GiftMembership
from membership.db import utcnow
from membership.errors import DomainError, InvalidInput
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.notices import record_notice

DAYS_PER_MONTH = 30  # gift terms are counted in 30-day months, printed as such
DELIVERY_HOUR = time(8)  # a gift dated for a later day arrives in the morning, outlet time
MAX_DELIVERY_AHEAD = timedelta(days=366)


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


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SETTINGS"].outlet_timezone)


def outlet_today() -> date:
    return utcnow().astimezone(_zone()).date()


def delivery_problem(deliver_on: date) -> str | None:
    """Why a delivery date cannot be taken (in the past, or more than a year ahead), else None."""
    today = outlet_today()
    if deliver_on < today:
        return "the delivery date is in the past"
    if deliver_on > today + MAX_DELIVERY_AHEAD:
        return "the delivery date is more than a year ahead"
    return None


def delivery_due(deliver_on: date) -> datetime:
    """When the recipient's mail goes: now for today (or a day that has passed), else that morning."""
    if deliver_on <= outlet_today():
        return utcnow()
    return datetime.combine(deliver_on, DELIVERY_HOUR, tzinfo=_zone())


def _recipient_reader_id(email: str) -> int | None:
    """The recipient's own reader row, if they have one: their mail is in their language."""
    return db.session.scalar(select(Reader.id).where(Reader.email == email.lower(), Reader.deleted_at.is_(None)))


def fulfil(gift: GiftMembership, deliver_on: date | None = None) -> bool:
    """Mint the code and record the notice once; False when already fulfilled. Flushes.

    Without `deliver_on` the code goes to the purchaser now; with it, to the recipient
    on that day (see the module docstring)."""
    if gift.status != "pending_payment":
        return False
    code = new_code()
    now = utcnow()
    due = delivery_due(deliver_on) if deliver_on is not None else now
    gift.code_hash, gift.status, gift.paid_at, gift.delivered_at = hash_code(code), "paid", now, due
    purchaser = db.session.get(Reader, gift.purchaser_reader_id)
    db.session.flush()
    if deliver_on is not None:
        link = current_app.config["SETTINGS"].public_url.rstrip("/") + f"/redeem?code={code}"
        record_notice("gift_delivered", f"gift:{gift.id}", gift.recipient_email,
                      {"gift_id": gift.id, "code": code, "link": link, "mail_language": gift.recipient_language},
                      reader_id=_recipient_reader_id(gift.recipient_email), due_at=due)
    elif purchaser is not None and purchaser.deleted_at is None:
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
