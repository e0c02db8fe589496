"""Double opt-in for newsletters: subscribe (pending) -> confirm (time + IP) -> unsubscribe.

These are the services the reader-facing preferences API (issue 4) and the one-click
unsubscribe endpoint call. They only flush; the request commits. Opting out is always
one call and never needs the reader to be signed in (GDPR Art. 7(3)).
"""

from __future__ import annotations

from sqlalchemy import select

from membership.db import utcnow
from membership.errors import NotFound
from membership.extensions import db
from membership.identity.models import Consent, ConsentKind, Reader
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus

CONSENT_TEXT_VERSION = "newsletter-v1"


def _subscription(reader_id: int, newsletter_id: int) -> NewsletterSubscription | None:
    return db.session.scalar(
        select(NewsletterSubscription).where(
            NewsletterSubscription.reader_id == reader_id,
            NewsletterSubscription.newsletter_id == newsletter_id,
        )
    )


def _require(reader_id: int, newsletter_id: int) -> None:
    reader = db.session.get(Reader, reader_id)
    if reader is None or reader.deleted_at is not None:
        raise NotFound(f"reader {reader_id} not found")
    newsletter = db.session.get(Newsletter, newsletter_id)
    if newsletter is None or not newsletter.active:
        raise NotFound(f"newsletter {newsletter_id} not found")


def subscribe(reader_id: int, newsletter_id: int, ip: str | None, source: str) -> NewsletterSubscription:
    """Ask to receive a newsletter: pending until confirmed. Idempotent; a confirmed
    opt-in stays confirmed; an earlier opt-out becomes a fresh pending request."""
    _require(reader_id, newsletter_id)
    sub = _subscription(reader_id, newsletter_id)
    if sub is None:
        sub = NewsletterSubscription(reader_id=reader_id, newsletter_id=newsletter_id, source=source[:64])
        db.session.add(sub)
    elif sub.status == OptInStatus.UNSUBSCRIBED:
        sub.status, sub.requested_at, sub.source = OptInStatus.PENDING, utcnow(), source[:64]
        sub.confirmed_at = sub.confirm_ip = sub.unsubscribed_at = None
    db.session.flush()
    return sub


def confirm(reader_id: int, newsletter_id: int, ip: str | None) -> NewsletterSubscription:
    """The confirmation click: keeps its time and IP and a consent record as evidence."""
    sub = _subscription(reader_id, newsletter_id)
    if sub is None or sub.status == OptInStatus.UNSUBSCRIBED:
        raise NotFound("no pending newsletter subscription to confirm")
    if sub.status == OptInStatus.PENDING:
        sub.status, sub.confirmed_at, sub.confirm_ip = OptInStatus.CONFIRMED, utcnow(), (ip or None)
        db.session.add(
            Consent(reader_id=reader_id, kind=ConsentKind.NEWSLETTER, text_version=CONSENT_TEXT_VERSION,
                    source=f"newsletter:{newsletter_id}", ip=ip)
        )
    db.session.flush()
    return sub


def confirm_pending(reader_id: int, ip: str | None) -> list[int]:
    """Confirm every pending opt-in of a reader (the sign-up link confirms them all)."""
    pending = db.session.scalars(
        select(NewsletterSubscription.newsletter_id).where(
            NewsletterSubscription.reader_id == reader_id, NewsletterSubscription.status == OptInStatus.PENDING
        )
    ).all()
    for newsletter_id in pending:
        confirm(reader_id, newsletter_id, ip)
    return list(pending)


def unsubscribe(reader_id: int, newsletter_id: int, source: str = "") -> bool:
    """Opt out at once. Returns True when something changed; unknown pairs are a no-op
    (a one-click POST must answer 200 even when the reader already left)."""
    sub = _subscription(reader_id, newsletter_id)
    if sub is None or sub.status == OptInStatus.UNSUBSCRIBED:
        return False
    sub.status, sub.unsubscribed_at = OptInStatus.UNSUBSCRIBED, utcnow()
    if source:
        sub.source = sub.source or source[:64]
    db.session.flush()
    return True
