"""GDPR access (export) and erasure.

Erasure keeps financial rows (payments, subscriptions, donations amounts, consents'
kind/version/time: tax and consumer law require them) and removes personal data:
email becomes `erased-<id>@invalid`, name and free text blank, consent ip/user agent
cleared, newsletter subscriptions, tokens and sessions deleted, notices, newsletter
deliveries and bounce events re-addressed (SMTP diagnostics, which quote the address,
dropped), and stored webhook payloads stripped of names, emails, phones and addresses
(billing/inbox_erasure.py; ids and amounts stay). Suppressions are kept: they exist so
that an address which bounced or complained is never mailed again. At
Stripe, live subscriptions are cancelled at once (we cannot bill someone we no
longer know) and the customer's name/email/phone/address are removed; the customer
object itself is kept so refunds and disputes on past charges still resolve.
Stripe is called first: if it fails nothing local changes (502) and a retry is safe.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select, update

from membership.billing.gateway.customers import erase_customer
from membership.billing.inbox_erasure import redact_reader_events
from membership.billing.models import (
    CheckoutSession,
    ComplimentaryMembership,
    Donation,
    GiftMembership,
    Payment,
    Subscription,
)
from membership.billing.processor import processor_errors
from membership.db import Base, utcnow
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES
from membership.extensions import db
from membership.identity.models import Consent, LoginToken, Reader, ReaderLabel, ReaderSession
from membership.mail.models import BounceEvent, Notice
from membership.newsletters.models import Delivery, NewsletterSubscription
from membership.staff.models import AuditLog

_HIDDEN = {"token_hash", "code_hash", "context", "body_html", "body_text"}


class ExportOut(BaseModel):
    reader: dict[str, Any]
    consents: list[dict[str, Any]]
    newsletters: list[dict[str, Any]]
    subscriptions: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    donations: list[dict[str, Any]]
    gifts_bought: list[dict[str, Any]]
    gifts_received: list[dict[str, Any]]
    complimentary: list[dict[str, Any]]
    checkouts: list[dict[str, Any]]
    notices: list[dict[str, Any]]


def _row(obj: Base) -> dict[str, Any]:
    out = {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs if c.key not in _HIDDEN}
    return json.loads(json.dumps(out, default=str))


def _rows(model: type[Base], column: Any, reader_id: int) -> list[dict[str, Any]]:
    return [_row(o) for o in db.session.scalars(select(model).where(column == reader_id).order_by(model.id))]  # type: ignore[attr-defined]


def export(reader: Reader) -> ExportOut:
    rid = reader.id
    return ExportOut(
        reader=_row(reader), consents=_rows(Consent, Consent.reader_id, rid),
        newsletters=_rows(NewsletterSubscription, NewsletterSubscription.reader_id, rid),
        subscriptions=_rows(Subscription, Subscription.reader_id, rid),
        payments=_rows(Payment, Payment.reader_id, rid), donations=_rows(Donation, Donation.reader_id, rid),
        gifts_bought=_rows(GiftMembership, GiftMembership.purchaser_reader_id, rid),
        gifts_received=_rows(GiftMembership, GiftMembership.redeemed_by_reader_id, rid),
        complimentary=_rows(ComplimentaryMembership, ComplimentaryMembership.reader_id, rid),
        checkouts=_rows(CheckoutSession, CheckoutSession.reader_id, rid),
        notices=_rows(Notice, Notice.reader_id, rid),
    )


def _erase_at_stripe(reader: Reader) -> None:
    if not reader.stripe_customer_id:
        return
    live = list(db.session.scalars(select(Subscription.stripe_subscription_id).where(
        Subscription.reader_id == reader.id, Subscription.status.not_in(TERMINAL_SUBSCRIPTION_STATUSES))))
    with processor_errors():
        erase_customer(reader.stripe_customer_id, live)


def erase(reader: Reader, actor: str = "reader") -> None:
    """Remove the reader's personal data here and at Stripe. Flushes."""
    _erase_at_stripe(reader)
    rid, now, old_email = reader.id, utcnow(), reader.email
    erased_email = f"erased-{rid}@invalid"
    reader.email, reader.name, reader.note, reader.deleted_at = erased_email, "", "", now
    db.session.execute(delete(ReaderLabel).where(ReaderLabel.reader_id == rid))
    _erase_mail_traces(rid, old_email, erased_email)
    redact_reader_events(reader.stripe_customer_id, old_email, erased_email)
    db.session.execute(delete(ReaderSession).where(ReaderSession.reader_id == rid))
    db.session.execute(update(Consent).where(Consent.reader_id == rid).values(ip=None, user_agent=None))
    db.session.execute(delete(NewsletterSubscription).where(NewsletterSubscription.reader_id == rid))
    db.session.execute(delete(LoginToken).where(LoginToken.reader_id == rid))
    db.session.execute(update(Donation).where(Donation.reader_id == rid).values(honoree_name=None, message=None))
    db.session.execute(update(GiftMembership).where(GiftMembership.purchaser_reader_id == rid).values(
        recipient_email=erased_email, recipient_name="", message=None))
    db.session.execute(update(Notice).where(Notice.reader_id == rid).values(
        email=erased_email, context="{}", body_text=None, body_html=None, subject=None))
    db.session.execute(update(Subscription).where(Subscription.reader_id == rid).values(cancellation_feedback=None))
    db.session.add(AuditLog(actor=actor, action="reader.erase", target_type="reader", target_id=str(rid)))
    db.session.flush()


def _erase_mail_traces(rid: int, old_email: str, erased_email: str) -> None:
    """Newsletter deliveries and bounce events keep their counts, not the address."""
    db.session.execute(update(Delivery).where(Delivery.reader_id == rid).values(
        email=erased_email, last_error=None))
    db.session.execute(update(BounceEvent).where(BounceEvent.email == old_email.lower()).values(
        email=erased_email, diagnostic=None))
