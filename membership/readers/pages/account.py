"""The account page: membership status, subscriptions and what a reader can change
about them (cancel, resume, plan, amount), gifts, newsletters and sign-out."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.api.validation import validate
from membership.billing import gifts, selfservice
from membership.billing.entitlement import entitlement
from membership.billing.models import Plan, PlanKind, Price, Subscription
from membership.billing.reader_schemas import ChangeAmountIn, RedeemIn
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES, Stream, SubscriptionStatus
from membership.errors import InvalidInput
from membership.extensions import db
from membership.identity.consents import request_meta
from membership.identity.sessions import end_session, revoke_all_sessions, session_reader
from membership.money import format_money
from membership.readers import services
from membership.readers.pages.blueprint import bp, page, signed_in
from membership.unit_of_work import transactional

REASONS = [("too_expensive", "Too expensive"), ("unused", "I don't use it enough"),
           ("switched_service", "Switched to something else"), ("missing_features", "Missing something"),
           ("customer_service", "Service problems"), ("other", "Other")]


def _plan_choices(sub: Subscription) -> list[dict[str, Any]]:
    if sub.stream is not Stream.MEMBERSHIP or sub.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        return []
    prices = db.session.execute(select(Price, Plan).join(Plan).where(
        Plan.kind == PlanKind.MEMBERSHIP, Plan.active, Price.active, Price.currency == sub.currency,
        Price.amount_minor.is_not(None), Price.id != sub.price_id).order_by(Plan.rank, Price.interval))
    return [{"id": p.id, "label": f"{plan.name}, {format_money(p.amount_minor or 0, p.currency)} / {p.interval.value}"}
            for p, plan in prices]


def _subscription_rows(reader_id: int) -> list[dict[str, Any]]:
    rows = []
    subs = select(Subscription).where(Subscription.reader_id == reader_id).order_by(Subscription.id)
    for s in db.session.scalars(subs):
        rows.append({"plan_choices": _plan_choices(s),
                     "amount_change": s.stream is Stream.RECURRING_DONATION and s.status is SubscriptionStatus.ACTIVE,"id": s.id, "label": s.stream.value.replace("_", " ").capitalize(),
                     "amount": format_money(s.unit_amount_minor * s.quantity, s.currency),
                     "interval": s.interval.value, "status": s.status.value,
                     "cancel_at_period_end": s.cancel_at_period_end,
                     "ends": s.current_period_end.strftime("%d %B %Y") if s.current_period_end else "",
                     "live": s.status not in TERMINAL_SUBSCRIPTION_STATUSES})
    return rows


@bp.get("/account")
def account() -> Any:
    reader = session_reader()
    if reader is None:
        return redirect(url_for(".signin_page"), 303)
    notices = {"confirmed": "Thank you: your address is confirmed.", "saved": "Saved.",
               "cancelled": "Cancelled: your membership runs until the end of the paid period.",
               "resumed": "Welcome back: nothing changes.", "gift": "Gift redeemed: enjoy your membership!"}
    if request.args.get("checkout") == "success":
        notices["checkout"] = "Thank you! Your payment is being confirmed."
    key = "checkout" if request.args.get("checkout") == "success" else request.args.get("notice", "")
    return page("readers/account.html", reader=reader, membership=entitlement(reader.id), reasons=REASONS,
                subscriptions=_subscription_rows(reader.id), notice=notices.get(key),
                newsletters=services.newsletter_status(reader))


@bp.post("/account/newsletters")
@transactional
def account_newsletters() -> Response:
    reader = signed_in()
    services.set_newsletters(reader, request.form.getlist("newsletters"), request_meta())
    return redirect(url_for(".account", notice="saved"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/cancel")
@transactional
def account_cancel(subscription_id: int) -> Response:
    reason = request.form.get("reason") or None
    if reason not in {r for r, _ in REASONS} | {None}:
        reason = "other"
    selfservice.cancel(signed_in(), subscription_id, reason, request.form.get("comment") or None)
    return redirect(url_for(".account", notice="cancelled"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/resume")
@transactional
def account_resume(subscription_id: int) -> Response:
    selfservice.resume(signed_in(), subscription_id)
    return redirect(url_for(".account", notice="resumed"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/plan")
@transactional
def account_plan(subscription_id: int) -> Response:
    raw = request.form.get("price_id", "")
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("Choose a plan.")
    selfservice.change_plan(signed_in(), subscription_id, int(raw))
    return redirect(url_for(".account", notice="saved"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/amount")
@transactional
def account_amount(subscription_id: int) -> Response:
    data = validate(ChangeAmountIn, {"amount": request.form.get("amount", "").strip()})
    selfservice.change_amount(signed_in(), subscription_id, data.amount)
    return redirect(url_for(".account", notice="saved"), 303)


@bp.post("/account/gifts/redeem")
@transactional
def account_redeem() -> Response:
    data = validate(RedeemIn, {"code": request.form.get("code", "").strip()})
    gifts.redeem(signed_in(), data.code)
    return redirect(url_for(".account", notice="gift"), 303)


@bp.post("/account/portal")
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
@transactional
def account_signout_everywhere() -> Response:
    revoke_all_sessions(signed_in())
    end_session()
    return redirect(url_for(".signin_page"), 303)
