"""The account page: what the reader has (membership, renewals, card, payments,
statements) with a link to each change, plus newsletters, gift codes and sign-out.

Each change has its own small page (account_changes.py, account_billing.py) so the
form, its explanation and its errors stay together; this page only shows and links.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.api.validation import validate
from membership.billing import card_update, gifts, selfservice
from membership.billing.entitlement import entitlement
from membership.billing.models import Payment, Plan, Price, Subscription
from membership.billing.processor import ProcessorError
from membership.billing.reader_schemas import RedeemIn
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES, Stream, SubscriptionStatus
from membership.extensions import db
from membership.i18n import named
from membership.identity.consents import request_meta
from membership.identity.models import Reader
from membership.identity.sessions import end_session, revoke_all_sessions, session_reader
from membership.readers import services
from membership.readers.pages.account_common import per, reader_errors, status_name, streams
from membership.readers.pages.blueprint import bp, page, signed_in
from membership.unit_of_work import transactional

_CHANGEABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)


def _notices() -> dict[str, str]:
    return {"confirmed": _("Thank you: your address is confirmed."), "saved": _("Saved."),
            "resumed": _("Welcome back: your membership renews as before."),
            "gift": _("Gift redeemed: enjoy your membership!"), "card": _("Your new card is saved."),
            "upgraded": _("Your new plan starts now. The difference for this period is charged today."),
            "scheduled": _("Your plan changes at your next renewal. Until then nothing changes."),
            "kept": _("You keep your current plan."), "amount": _("Your gift's new amount applies from your "
                                                                  "next payment."),
            "checkout": _("Thank you! Your payment is being confirmed.")}


def _pending(sub: Subscription) -> dict[str, Any] | None:
    try:
        found = selfservice.pending_plan(sub)
    except ProcessorError:
        return None
    if found is None:
        return None
    price, plan, starts = found
    return {"name": plan.name, "amount_minor": price.amount_minor or 0, "currency": price.currency,
            "per": per(price.interval), "starts": starts}


def _row(sub: Subscription, plan_name: str | None) -> dict[str, Any]:
    live = sub.status not in TERMINAL_SUBSCRIPTION_STATUSES
    changeable = live and sub.status in _CHANGEABLE and not sub.cancel_at_period_end
    return {"id": sub.id, "stream": streams()[sub.stream], "plan": named(plan_name) if plan_name else None, "status": status_name(sub.status),
            "amount_minor": max(0, sub.unit_amount_minor * sub.quantity - sub.discount_minor),
            "currency": sub.currency, "per": per(sub.interval), "period_end": sub.current_period_end,
            "live": live, "ending": live and sub.cancel_at_period_end,
            "plan_change": changeable and sub.stream is Stream.MEMBERSHIP,
            "amount_change": changeable and sub.stream is Stream.RECURRING_DONATION,
            "pending": _pending(sub) if changeable and sub.stream is Stream.MEMBERSHIP else None}


def _subscriptions(reader: Reader) -> list[dict[str, Any]]:
    rows = db.session.execute(select(Subscription, Plan.name).outerjoin(Price, Price.id == Subscription.price_id)
                              .outerjoin(Plan, Plan.id == Price.plan_id)
                              .where(Subscription.reader_id == reader.id).order_by(Subscription.id))
    return [_row(sub, name) for sub, name in rows]


def _card(reader: Reader) -> tuple[Any, bool]:
    """The card on file, and whether Stripe could be asked (the page still works without)."""
    try:
        return card_update.card_on_file(reader), True
    except ProcessorError:
        return None, False


def _payments(reader: Reader) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.reader_id == reader.id)
                                   .order_by(Payment.paid_at.desc(), Payment.id.desc())))


def statement_years(payments: list[Payment]) -> list[int]:
    """Years (in the outlet's time zone, like the statements) with a gift in them."""
    tz = ZoneInfo(current_app.config["SETTINGS"].outlet_timezone)
    return sorted({p.paid_at.astimezone(tz).year for p in payments if p.stream is not Stream.OTHER}, reverse=True)


@bp.get("/account")
def account() -> Any:
    reader = session_reader()
    if reader is None:
        return redirect(url_for(".signin_page"), 303)
    key = "checkout" if request.args.get("checkout") == "success" else request.args.get("notice", "")
    payments = _payments(reader)
    card, card_known = _card(reader)
    return page("readers/account.html", reader=reader, membership=entitlement(reader.id),
                subscriptions=_subscriptions(reader), notice=_notices().get(key), card=card,
                card_known=card_known, payments=payments, streams=streams(), years=statement_years(payments),
                newsletters=services.newsletter_status(reader))


@bp.post("/account/newsletters")
@reader_errors
@transactional
def account_newsletters() -> Response:
    reader = signed_in()
    services.set_newsletters(reader, request.form.getlist("newsletters"), request_meta())
    return redirect(url_for(".account", notice="saved"), 303)


@bp.post("/account/gifts/redeem")
@transactional
def account_redeem() -> Response:
    """Errors go to the blueprint's page (a used code is a 410 that tests read)."""
    data = validate(RedeemIn, {"code": request.form.get("code", "").strip()})
    gifts.redeem(signed_in(), data.code)
    return redirect(url_for(".account", notice="gift"), 303)


@bp.post("/account/portal")
@reader_errors
@transactional
def account_portal() -> Response:
    url = selfservice.portal_url(signed_in(), current_app.config["SETTINGS"].public_url.rstrip("/") + "/account")
    return redirect(url, 303)


@bp.post("/account/signout")
@transactional
def account_signout() -> Response:
    end_session()
    return redirect(url_for(".signin_page"), 303)


@bp.post("/account/signout-everywhere")
@reader_errors
@transactional
def account_signout_everywhere() -> Response:
    revoke_all_sessions(signed_in())
    end_session()
    return redirect(url_for(".signin_page"), 303)
