"""A note about a gift made in honour or in memory of someone, mailed to a person the
donor names (the donate page), once the gift is paid.

Where the person's name and address wait until then, without a column for them: in
the `tribute_notice` row itself, recorded when Checkout starts and held `suppressed`
("awaiting payment"), so the send task skips it. When the payment is recorded
(handlers/payments.py) the row is released: pending, due now, and the send task is
enqueued after that commit. A checkout never paid leaves a held row that is never
sent. The row belongs to the donor (`reader_id`): it is rendered in the donor's
language, in which they wrote the note, and erased with them. The mail names the
donor unless the gift is anonymous, and never says the amount.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from membership.billing.models import Donation
from membership.db import utcnow
from membership.extensions import db
from membership.mail.models import Notice, NoticeStatus
from membership.mail.notices import enqueue_send, record_notice

KIND = "tribute_notice"
AWAITING_PAYMENT = "awaiting payment"
_NOT_YET = timedelta(days=3650)  # never due on its own: only a payment releases it


def _key(donation: Donation) -> str:
    return f"donation:{donation.stripe_checkout_session_id}"


def hold(donation: Donation, name: str, email: str) -> Notice:
    """Record the note to `email`, held until the donation is paid (idempotent). Flushes."""
    notice, created = record_notice(KIND, _key(donation), email, {"donation_id": donation.id, "name": name},
                                    reader_id=donation.reader_id, due_at=utcnow() + _NOT_YET)
    if created:
        notice.status, notice.last_error = NoticeStatus.SUPPRESSED, AWAITING_PAYMENT
        db.session.flush()
    return notice


def release(donation: Donation) -> bool:
    """The donation is paid: send its held note now, if there is one. Flushes."""
    notice = db.session.scalar(select(Notice).where(Notice.kind == KIND, Notice.dedupe_key == _key(donation))
                               .with_for_update())
    if notice is None or notice.status is not NoticeStatus.SUPPRESSED or notice.last_error != AWAITING_PAYMENT:
        return False
    notice.status, notice.last_error, notice.due_at = NoticeStatus.PENDING, None, utcnow()
    db.session.flush()
    enqueue_send(notice.id)
    return True
