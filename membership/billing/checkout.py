"""Checkout: the Stripe customer first, then one Checkout Session per purchase.

Double clicks and retries: the customer is created with a deterministic
idempotency key (reader id + creation time) and `metadata.reader_id`; the session's
idempotency key is derived from the Stripe customer and the exact request (offering,
amounts, options) plus a generation number (how many earlier sessions had the same
request), so a repeat of the same request reuses the open session (locally, or
Stripe replays the same one when two requests race) while a later, separate
purchase of the same thing gets a new session. The local rows are inserted under
a savepoint: when two racing requests got the same session, the loser re-reads
the winner's row.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from membership.billing.catalog import ensure_price, ensure_product
from membership.billing.entitlement import entitlement
from membership.billing.gateway import idempotency_key
from membership.billing.gateway.checkout import (
    CatalogPrice,
    CheckoutRequest,
    InlinePrice,
    OpenedSession,
    open_checkout_session,
)
from membership.billing.gateway.customers import create_customer
from membership.billing.gateway.errors import InvalidRequest
from membership.billing.models import CheckoutSession, CheckoutStatus, Donation, GiftMembership, TributeKind
from membership.billing.offerings import Offer, resolve
from membership.billing.processor import processor_errors
from membership.billing.promotions import AppliedPromotion, PromotionRefused, apply_code, intro_offer
from membership.billing.reader_schemas import CheckoutIn
from membership.db import utcnow
from membership.errors import Conflict
from membership.extensions import db
from membership.i18n import current_language
from membership.identity.consents import RequestMeta, record_consent
from membership.identity.models import ConsentKind, Reader

AUTO_RENEWAL_CONSENT_VERSION = "auto-renewal-2026-01"
REUSE_OPEN_FOR = timedelta(hours=23)  # Stripe expires sessions after 24 h


@dataclass(frozen=True)
class ReturnUrls:
    """Where Stripe sends the reader back: a page may name its own (a thank-you page,
    an abandoned-checkout page); the API keeps the account page. `success` may carry
    Stripe's `{CHECKOUT_SESSION_ID}` placeholder."""

    success: str
    cancel: str


def ensure_customer(reader: Reader) -> str:
    """The reader's Stripe customer, created at most once. Flushes."""
    if reader.stripe_customer_id:
        return reader.stripe_customer_id
    with processor_errors():
        customer_id = create_customer(reader.email, reader.name, reader.id,
                                      idempotency_key("customer", reader.id, reader.created_at.isoformat()))
    reader.stripe_customer_id = customer_id
    db.session.flush()
    return customer_id


def _fingerprint(customer: str, data: CheckoutIn, offer: Offer) -> str:
    """Keyed on the Stripe customer id (globally unique, unlike a local id after a restore)."""
    canonical = json.dumps({"req": data.model_dump(mode="json"), "amount": offer.amount_minor,
                            "fee": offer.fee_minor, "price": offer.price.id}, sort_keys=True)
    return f"checkout:{customer}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def _reusable(prefix: str) -> tuple[CheckoutSession | None, int]:
    rows = list(db.session.scalars(select(CheckoutSession).where(
        CheckoutSession.idempotency_key.like(prefix + ":%")).order_by(CheckoutSession.id)))
    for row in rows:
        if row.status is CheckoutStatus.OPEN and row.created_at > utcnow() - REUSE_OPEN_FOR:
            return row, len(rows)
    return None, len(rows)


def _urls(returns: ReturnUrls | None) -> tuple[str, str]:
    if returns is not None:
        return returns.success, returns.cancel
    base = current_app.config["SETTINGS"].public_url.rstrip("/")
    return (f"{base}/account?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
            f"{base}/account?checkout=cancel")


def _line_item(offer: Offer) -> CatalogPrice | InlinePrice:
    stripe_price = ensure_price(offer.price) if offer.kind == "membership" else None
    if stripe_price:
        return CatalogPrice(stripe_price)
    return InlinePrice(offer.currency, ensure_product(offer.plan), offer.total_minor,
                       offer.price.interval.value if offer.recurring else None)


def _metadata(reader: Reader, data: CheckoutIn, offer: Offer) -> dict[str, str]:
    md = {"reader_id": str(reader.id), "kind": offer.kind, "plan_code": offer.plan.code,
          "price_id": str(offer.price.id), "stream": "membership" if offer.kind == "gift_membership"
          else offer.plan.stream.value, "amount_minor": str(offer.amount_minor), "fee_cover_minor": str(offer.fee_minor)}
    if data.tribute:
        md.update(tribute_kind=data.tribute.kind, honoree_name=data.tribute.name)
    if data.anonymous:
        md["anonymous"] = "true"
    if data.gift is not None and data.gift.deliver_on is not None:
        md["deliver_on"] = data.gift.deliver_on.isoformat()  # read back when the payment succeeds
    return md


def _request(reader: Reader, data: CheckoutIn, offer: Offer, customer: str, returns: ReturnUrls | None,
             promo: AppliedPromotion | None) -> CheckoutRequest:
    success, cancel = _urls(returns)
    return CheckoutRequest(customer_id=customer, reader_id=reader.id, item=_line_item(offer),
                           metadata=_metadata(reader, data, offer), success_url=success, cancel_url=cancel,
                           recurring=offer.recurring, donation=offer.kind == "one_time_donation",
                           trial_days=offer.price.trial_days if offer.kind == "membership" else 0,
                           promotion_code_id=promo.promotion_code_id if promo else None)


def promotion_for(data: CheckoutIn, offer: Offer, customer: str | None) -> AppliedPromotion | None:
    """The typed code (refused with the reason) or else the tier's intro offer, for memberships."""
    if offer.kind != "membership":
        if data.promotion_code:
            raise PromotionRefused("unknown", "codes apply to memberships only")
        return None
    if data.promotion_code:
        return apply_code(data.promotion_code, offer.total_minor, offer.currency, offer.price.interval, customer)
    return intro_offer(offer.plan.code, offer.total_minor, offer.currency, offer.price.interval)


def _open(req: CheckoutRequest, key: str, promo: AppliedPromotion | None) -> OpenedSession:
    """Stripe's refusal of the discount itself (first purchase only, ...) is the reader's
    input error on the code field, not a processor failure."""
    with processor_errors():
        try:
            return open_checkout_session(req, key)
        except InvalidRequest as exc:
            if promo is not None and (exc.param or "").startswith("discounts"):
                raise PromotionRefused("customer", exc.user_message or "this code cannot be used here") from exc
            raise


def _local_rows(reader: Reader, data: CheckoutIn, offer: Offer, session: OpenedSession, key: str) -> CheckoutSession:
    row = CheckoutSession(reader_id=reader.id, stripe_session_id=session.id, idempotency_key=key,
                          mode=session.mode, price_id=offer.price.id, amount_minor=offer.total_minor,
                          fee_cover_minor=offer.fee_minor, currency=offer.currency, url=session.url)
    db.session.add(row)
    if offer.kind == "one_time_donation":
        db.session.add(Donation(
            reader_id=reader.id, stripe_checkout_session_id=session.id, amount_minor=offer.total_minor,
            currency=offer.currency, cover_fees=data.cover_fees, fee_cover_minor=offer.fee_minor,
            tribute_kind=TributeKind(data.tribute.kind) if data.tribute else TributeKind.NONE,
            honoree_name=data.tribute.name if data.tribute else None, message=data.message,
            anonymous=data.anonymous))
    elif offer.kind == "gift_membership":
        assert data.gift is not None
        db.session.add(GiftMembership(
            purchaser_reader_id=reader.id, recipient_email=str(data.gift.recipient_email).lower(),
            recipient_name=data.gift.recipient_name, message=data.gift.message, plan_id=offer.plan.id,
            months=data.gift.months, stripe_checkout_session_id=session.id, amount_minor=offer.total_minor,
            currency=offer.currency, recipient_language=current_language(),
            # placeholder: the real code is minted (and this hash replaced) when the payment succeeds
            code_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest()))
    db.session.flush()
    return row


def start_checkout(reader: Reader, data: CheckoutIn, meta: RequestMeta,
                   returns: ReturnUrls | None = None) -> CheckoutSession:
    """Validate, then reuse or create the Checkout Session for this purchase. Flushes.

    A promotion code (typed, or the tier's intro offer) is checked before anything is
    created, and the consent records the price the reader was shown: the discounted one."""
    offer = resolve(data)
    if offer.kind == "membership" and entitlement(reader.id).source == "subscription":
        raise Conflict("You already have a membership: change its plan instead.")
    promo = promotion_for(data, offer, reader.stripe_customer_id)
    customer = ensure_customer(reader)
    prefix = _fingerprint(customer, data, offer)
    existing, generation = _reusable(prefix)
    if existing is not None:
        return existing
    key = f"{prefix}:{generation}"
    session = _open(_request(reader, data, offer, customer, returns, promo), key, promo)
    try:
        with db.session.begin_nested():
            row = _local_rows(reader, data, offer, session, key)
    except IntegrityError:
        row = db.session.scalars(select(CheckoutSession).where(CheckoutSession.idempotency_key == key)).one()
        return row
    if offer.recurring:
        record_consent(reader, ConsentKind.AUTO_RENEWAL, AUTO_RENEWAL_CONSENT_VERSION, "checkout", meta,
                       price_minor=promo.first_amount_minor if promo else offer.total_minor, currency=offer.currency)
    return row

