"""Reader billing API: offerings, checkout, history, portal, cancel/resume, plan and
amount changes, gift redemption."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import select

from membership.api import operation
from membership.api.limits import per_ip_and_reader
from membership.billing import gifts, selfservice
from membership.billing.checkout import start_checkout
from membership.billing.fees import FEE_FIXED_MINOR, FEE_PERCENT_THOUSANDTHS
from membership.billing.models import Donation, Payment, Plan, Price, Subscription
from membership.billing.offerings import ceiling
from membership.billing.reader_schemas import (
    CancelIn,
    ChangeAmountIn,
    ChangePlanIn,
    CheckoutIn,
    CheckoutOut,
    DonationOut,
    HistoryOut,
    OfferingOut,
    OfferingsOut,
    PaymentOut,
    PortalOut,
    PriceOut,
    RedeemIn,
    RedeemOut,
    SubscriptionOut,
)
from membership.extensions import db
from membership.identity.consents import request_meta
from membership.identity.guard import READER, me
from membership.money import format_money

bp = Blueprint("billing_api", __name__, url_prefix="/api")


def _price_out(p: Price) -> PriceOut:
    shown = format_money(p.amount_minor, p.currency) if p.amount_minor else \
        f"from {format_money(max(p.min_amount_minor, 1), p.currency)}"
    return PriceOut(id=p.id, currency=p.currency, interval=p.interval.value, amount_minor=p.amount_minor,
                    min_amount_minor=p.min_amount_minor, max_amount_minor=ceiling(p), display=shown)


@operation(bp, "/offerings", "GET", summary="Membership tiers and giving options", tag="billing",
           response=OfferingsOut)
def offerings() -> OfferingsOut:
    out = []
    for plan in db.session.scalars(select(Plan).where(Plan.active).order_by(Plan.kind, Plan.rank, Plan.id)):
        prices = db.session.scalars(select(Price).where(Price.plan_id == plan.id, Price.active).order_by(Price.id))
        out.append(OfferingOut(code=plan.code, name=plan.name, description=plan.description, kind=plan.kind.value,
                               prices=[_price_out(p) for p in prices]))
    return OfferingsOut(offerings=out, fee_model=f"{FEE_PERCENT_THOUSANDTHS / 10}% + {FEE_FIXED_MINOR} minor units")


@operation(bp, "/checkout", "POST", summary="Start a Checkout Session", tag="billing", body=CheckoutIn,
           response=CheckoutOut, status=201, security=READER, errors=(409, 429, 502),
           decorators=per_ip_and_reader("CHECKOUT"))
def checkout(body: CheckoutIn) -> CheckoutOut:
    """A repeat of the same request returns the same open session."""
    row = start_checkout(me(), body, request_meta())
    db.session.flush()  # the operation commits once it returns
    return CheckoutOut(id=row.id, stripe_session_id=row.stripe_session_id, url=row.url, mode=row.mode,
                       amount_minor=row.amount_minor, fee_cover_minor=row.fee_cover_minor, currency=row.currency)


def _sub_out(s: Subscription) -> SubscriptionOut:
    plan = db.session.scalar(select(Plan.code).join(Price).where(Price.id == s.price_id)) if s.price_id else None
    return SubscriptionOut(id=s.id, stream=s.stream.value, status=s.status.value, plan=plan,
                           amount_minor=s.unit_amount_minor * s.quantity, currency=s.currency,
                           interval=s.interval.value, cancel_at_period_end=s.cancel_at_period_end,
                           current_period_end=s.current_period_end)


@operation(bp, "/me/billing", "GET", summary="My memberships and giving history", tag="billing",
           response=HistoryOut, security=READER)
def history() -> HistoryOut:
    rid = me().id
    subs = db.session.scalars(select(Subscription).where(Subscription.reader_id == rid).order_by(Subscription.id))
    pays = db.session.scalars(select(Payment).where(Payment.reader_id == rid).order_by(Payment.paid_at))
    dons = db.session.scalars(select(Donation).where(Donation.reader_id == rid).order_by(Donation.id))
    return HistoryOut(
        subscriptions=[_sub_out(s) for s in subs],
        payments=[PaymentOut(id=p.id, stream=p.stream.value, amount_minor=p.gross_minor, currency=p.currency,
                             paid_at=p.paid_at) for p in pays],
        donations=[DonationOut(id=d.id, amount_minor=d.amount_minor, currency=d.currency, status=d.status,
                               tribute_kind=d.tribute_kind.value, anonymous=d.anonymous, created_at=d.created_at)
                   for d in dons])


@operation(bp, "/me/billing/portal", "POST", summary="Open Stripe's billing portal (cards, invoices)",
           tag="billing", response=PortalOut, security=READER, errors=(502,))
def portal() -> PortalOut:
    url = selfservice.portal_url(me(), current_app.config["SETTINGS"].public_url.rstrip("/") + "/account")
    db.session.flush()  # the operation commits once it returns
    return PortalOut(url=url)


@operation(bp, "/me/subscriptions/<int:subscription_id>/cancel", "POST", summary="Cancel at period end",
           tag="billing", body=CancelIn, response=SubscriptionOut, security=READER, errors=(409, 502))
def cancel(subscription_id: int, body: CancelIn) -> SubscriptionOut:
    sub = selfservice.cancel(me(), subscription_id, body.reason, body.comment)
    db.session.flush()  # the operation commits once it returns
    return _sub_out(sub)


@operation(bp, "/me/subscriptions/<int:subscription_id>/resume", "POST", summary="Undo a cancellation",
           tag="billing", response=SubscriptionOut, security=READER, errors=(409, 502))
def resume(subscription_id: int) -> SubscriptionOut:
    sub = selfservice.resume(me(), subscription_id)
    db.session.flush()  # the operation commits once it returns
    return _sub_out(sub)


@operation(bp, "/me/subscriptions/<int:subscription_id>/plan", "POST",
           summary="Upgrade now (prorated) or downgrade from the next renewal", tag="billing", body=ChangePlanIn,
           response=SubscriptionOut, security=READER, errors=(409, 502))
def change_plan(subscription_id: int, body: ChangePlanIn) -> SubscriptionOut:
    sub = selfservice.change_plan(me(), subscription_id, body.price_id)
    db.session.flush()  # the operation commits once it returns
    return _sub_out(sub)


@operation(bp, "/me/subscriptions/<int:subscription_id>/amount", "POST",
           summary="Change a recurring gift's amount (from the next renewal)", tag="billing", body=ChangeAmountIn,
           response=SubscriptionOut, security=READER, errors=(409, 502))
def change_amount(subscription_id: int, body: ChangeAmountIn) -> SubscriptionOut:
    sub = selfservice.change_amount(me(), subscription_id, body.amount)
    db.session.flush()  # the operation commits once it returns
    return _sub_out(sub)


@operation(bp, "/gifts/redeem", "POST", summary="Redeem a gift membership code", tag="billing", body=RedeemIn,
           response=RedeemOut, security=READER, errors=(410,))
def redeem(body: RedeemIn) -> RedeemOut:
    gift = gifts.redeem(me(), body.code)
    db.session.flush()  # the operation commits once it returns
    assert gift.expires_at is not None
    return RedeemOut(gift_id=gift.id, expires_at=gift.expires_at)
