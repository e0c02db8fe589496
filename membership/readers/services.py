"""Sign-up, confirmation and sign-in by magic link; newsletter preferences.

No account enumeration: sign-up and sign-in answer the same whatever the address,
and the only difference (which mail is sent) is visible in the mailbox only. A
sign-up for an address that already exists records no consent (the person asking
may not own the address); the owner gets a sign-in link (verified) or a fresh
confirmation link (unverified) instead.
"""

from __future__ import annotations

from sqlalchemy import select

from membership.db import utcnow
from membership.errors import InvalidInput
from membership.extensions import db
from membership.identity.consents import RequestMeta, record_consent
from membership.identity.links import public_link, send_confirmation, send_sign_in_link
from membership.identity.models import ConsentKind, Reader, TokenPurpose
from membership.identity.tokens import consume_token, hash_token, issue_decoy_token
from membership.mail.notices import record_decoy_notice, record_notice
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus
from membership.readers.schemas import SignUpIn

# The terms/consent texts' versions in force; bump when the wording changes.
TERMS_VERSION = "terms-2026-01"
NEWSLETTER_CONSENT_VERSION = "newsletter-2026-01"
MARKETING_CONSENT_VERSION = "marketing-2026-01"


def _reader_by_email(email: str) -> Reader | None:
    return db.session.scalar(select(Reader).where(Reader.email == email.lower(), Reader.deleted_at.is_(None)))


def _newsletters(slugs: list[str]) -> list[Newsletter]:
    wanted = sorted(set(slugs))
    found = list(db.session.scalars(select(Newsletter).where(Newsletter.slug.in_(wanted), Newsletter.active)))
    unknown = set(wanted) - {n.slug for n in found}
    if unknown:
        raise InvalidInput(f"unknown newsletter(s): {', '.join(sorted(unknown))}",
                           errors=[{"pointer": "/newsletters", "detail": f"unknown: {s}"} for s in sorted(unknown)])
    return found


def sign_up(data: SignUpIn, meta: RequestMeta) -> None:
    """Create the reader (unverified) with consents and pending opt-ins, or mail the owner. Flushes."""
    chosen = _newsletters(data.newsletters)
    email = str(data.email).lower()
    existing = _reader_by_email(email)
    if existing is not None:
        if existing.email_verified_at is None:
            send_confirmation(existing)
        else:
            send_sign_in_link(existing)
        return
    reader = Reader(email=email, name=data.name)
    db.session.add(reader)
    db.session.flush()
    consents = [(ConsentKind.TERMS, TERMS_VERSION)]
    if chosen:
        consents.append((ConsentKind.NEWSLETTER, NEWSLETTER_CONSENT_VERSION))
    if data.marketing:
        consents.append((ConsentKind.MARKETING, MARKETING_CONSENT_VERSION))
    for kind, version in consents:
        record_consent(reader, kind, version, data.source, meta)
    for newsletter in chosen:
        db.session.add(NewsletterSubscription(reader_id=reader.id, newsletter_id=newsletter.id,
                                              status=OptInStatus.PENDING, source=data.source))
    db.session.flush()
    send_confirmation(reader)


def confirm(token: str, meta: RequestMeta) -> Reader:
    """Double opt-in: the click verifies the address and confirms pending opt-ins. Flushes."""
    reader = consume_token(token, TokenPurpose.CONFIRM)
    now = utcnow()
    first = reader.email_verified_at is None
    if first:
        reader.email_verified_at = now
    pending = db.session.scalars(select(NewsletterSubscription).where(
        NewsletterSubscription.reader_id == reader.id, NewsletterSubscription.status == OptInStatus.PENDING))
    for sub in pending:
        sub.status, sub.confirmed_at, sub.confirm_ip = OptInStatus.CONFIRMED, now, (meta.ip or "")[:64] or None
    if first:
        record_notice("welcome", f"reader:{reader.id}", reader.email, {}, reader_id=reader.id)
    db.session.flush()
    return reader


def request_sign_in(email: str) -> None:
    """Mail a sign-in link to the address on file, if there is one. Flushes.

    Equal work whatever the address, so the response time does not tell whether it has
    an account (it told before: 7.7 ms against 1.0 ms). For an unknown address the same
    steps run on a decoy: a token is minted, hashed and stored (a row naming nobody,
    born used), the link is sealed as a notice's would be, the same notice lookup runs
    and a send is enqueued after the commit, which the worker finds nothing to do for.
    """
    reader = _reader_by_email(email)
    if reader is not None:
        send_sign_in_link(reader)
    else:
        _decoy_sign_in_link()


def _decoy_sign_in_link() -> None:
    token = issue_decoy_token(TokenPurpose.SIGN_IN)
    record_decoy_notice("magic_link", hash_token(token), {"link": public_link(f"/signin/{token}")})


def sign_in(token: str) -> Reader:
    """Consume a sign-in link; the click also proves the address. Flushes."""
    reader = consume_token(token, TokenPurpose.SIGN_IN)
    if reader.email_verified_at is None:
        reader.email_verified_at = utcnow()
    db.session.flush()
    return reader


def newsletter_status(reader: Reader) -> list[tuple[Newsletter, OptInStatus | None]]:
    rows = db.session.execute(
        select(Newsletter, NewsletterSubscription.status)
        .outerjoin(NewsletterSubscription, (NewsletterSubscription.newsletter_id == Newsletter.id)
                   & (NewsletterSubscription.reader_id == reader.id))
        .where(Newsletter.active).order_by(Newsletter.id)
    ).all()
    return [(n, s) for n, s in rows]


def set_newsletters(reader: Reader, slugs: list[str], meta: RequestMeta) -> None:
    """Exactly these newsletters: new ones confirmed at once (the reader is signed in and
    verified, so the signed-in click is the opt-in proof), the rest unsubscribed. Flushes."""
    if reader.email_verified_at is None:
        raise InvalidInput("Confirm your address first.")
    wanted = {n.id: n for n in _newsletters(slugs)}
    now = utcnow()
    subs = {s.newsletter_id: s for s in db.session.scalars(
        select(NewsletterSubscription).where(NewsletterSubscription.reader_id == reader.id))}
    newly = [nid for nid in wanted if nid not in subs or subs[nid].status != OptInStatus.CONFIRMED]
    for nid, sub in subs.items():
        if nid not in wanted and sub.status != OptInStatus.UNSUBSCRIBED:
            sub.status, sub.unsubscribed_at = OptInStatus.UNSUBSCRIBED, now
    for nid in wanted:
        current = subs.get(nid)
        if current is None:
            db.session.add(NewsletterSubscription(reader_id=reader.id, newsletter_id=nid, status=OptInStatus.CONFIRMED,
                                                  source="preferences", confirmed_at=now, confirm_ip=meta.ip))
        elif current.status != OptInStatus.CONFIRMED:
            current.status, current.confirmed_at, current.unsubscribed_at = OptInStatus.CONFIRMED, now, None
            current.confirm_ip = meta.ip
    if newly:
        record_consent(reader, ConsentKind.NEWSLETTER, NEWSLETTER_CONSENT_VERSION, "preferences", meta)
    db.session.flush()
