"""The few HTML pages a reader must see: confirm sign-up, sign in, account.

Links in mail open a page with a button (POST): mail scanners that prefetch GET
links must not use up single-use tokens. Every POST carries the session's CSRF
token (checked before the view runs); errors render as a short HTML page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.api.limits import per_ip_and_email
from membership.api.validation import validate
from membership.billing import gifts, selfservice
from membership.billing.entitlement import entitlement
from membership.billing.models import Plan, PlanKind, Price, Subscription
from membership.billing.reader_schemas import ChangeAmountIn, RedeemIn
from membership.enums import TERMINAL_SUBSCRIPTION_STATUSES, Stream, SubscriptionStatus
from membership.errors import DomainError, InvalidInput, Unauthorized
from membership.extensions import db
from membership.identity.consents import request_meta
from membership.identity.models import Reader
from membership.identity.sessions import (
    check_csrf,
    csrf_token,
    end_session,
    revoke_all_sessions,
    session_reader,
    start_session,
)
from membership.money import format_money
from membership.readers import services
from membership.readers.schemas import SignInIn
from membership.unit_of_work import transactional

bp = Blueprint("reader_pages", __name__, template_folder="templates")
REASONS = [("too_expensive", "Too expensive"), ("unused", "I don't use it enough"),
           ("switched_service", "Switched to something else"), ("missing_features", "Missing something"),
           ("customer_service", "Service problems"), ("other", "Other")]
_SIGNIN_LIMITS = per_ip_and_email("SIGNIN")


def page(template: str, status: int = 200, **ctx: Any) -> tuple[str, int]:
    outlet = current_app.config["SETTINGS"].outlet_name
    return render_template(template, outlet=outlet, csrf=csrf_token(), **ctx), status


def message(heading: str, text: str, status: int = 200, error: bool = False, **ctx: Any) -> tuple[str, int]:
    return page("readers/message.html", status, heading=heading, text=text, error=error, **ctx)


@bp.before_request
def _csrf() -> None:
    if request.method == "POST":
        check_csrf()


@bp.errorhandler(DomainError)
def _error(exc: DomainError) -> tuple[str, int]:
    return message(exc.title, exc.detail, exc.status, error=True, link="/signin", link_text="Get a new link")


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> tuple[str, int]:
    return page("readers/use_link.html", heading="Confirm your address", button="Confirm",
                text="One click and your sign-up is complete.")


@bp.post("/confirm/<token>")
@transactional
def confirm_post(token: str) -> Response:
    reader = services.confirm(token, request_meta())
    start_session(reader)
    return redirect(url_for(".account", notice="confirmed"), 303)


@bp.get("/signin")
def signin_page() -> tuple[str, int]:
    return page("readers/signin.html")


@bp.post("/signin")
@_SIGNIN_LIMITS[0]
@_SIGNIN_LIMITS[1]
@transactional
def signin_post() -> tuple[str, int]:
    data = validate(SignInIn, {"email": request.form.get("email", "")})
    services.request_sign_in(str(data.email))
    return message("Check your email", "If the address can receive mail, a sign-in link is on its way.", 202)


@bp.get("/signin/<token>")
def signin_link_page(token: str) -> tuple[str, int]:
    return page("readers/use_link.html", heading="Sign in", button="Sign me in",
                text="This link works once, for 15 minutes.")


@bp.post("/signin/<token>")
@transactional
def signin_link_post(token: str) -> Response:
    reader = services.sign_in(token)
    start_session(reader)
    return redirect(url_for(".account"), 303)


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


def _signed_in() -> Reader:
    reader = session_reader()
    if reader is None:
        raise Unauthorized("Sign in first.")
    return reader


@bp.post("/account/newsletters")
@transactional
def account_newsletters() -> Response:
    reader = _signed_in()
    services.set_newsletters(reader, request.form.getlist("newsletters"), request_meta())
    return redirect(url_for(".account", notice="saved"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/cancel")
@transactional
def account_cancel(subscription_id: int) -> Response:
    reason = request.form.get("reason") or None
    if reason not in {r for r, _ in REASONS} | {None}:
        reason = "other"
    selfservice.cancel(_signed_in(), subscription_id, reason, request.form.get("comment") or None)
    return redirect(url_for(".account", notice="cancelled"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/resume")
@transactional
def account_resume(subscription_id: int) -> Response:
    selfservice.resume(_signed_in(), subscription_id)
    return redirect(url_for(".account", notice="resumed"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/plan")
@transactional
def account_plan(subscription_id: int) -> Response:
    raw = request.form.get("price_id", "")
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("Choose a plan.")
    selfservice.change_plan(_signed_in(), subscription_id, int(raw))
    return redirect(url_for(".account", notice="saved"), 303)


@bp.post("/account/subscriptions/<int:subscription_id>/amount")
@transactional
def account_amount(subscription_id: int) -> Response:
    data = validate(ChangeAmountIn, {"amount": request.form.get("amount", "").strip()})
    selfservice.change_amount(_signed_in(), subscription_id, data.amount)
    return redirect(url_for(".account", notice="saved"), 303)


@bp.post("/account/gifts/redeem")
@transactional
def account_redeem() -> Response:
    data = validate(RedeemIn, {"code": request.form.get("code", "").strip()})
    gifts.redeem(_signed_in(), data.code)
    return redirect(url_for(".account", notice="gift"), 303)


@bp.post("/account/portal")
@transactional
def account_portal() -> Response:
    url = selfservice.portal_url(_signed_in(), current_app.config["SETTINGS"].public_url.rstrip("/") + "/account")
    return redirect(url, 303)


@bp.post("/account/signout")
@transactional
def account_signout() -> Response:
    end_session()
    return redirect(url_for(".signin_page"), 303)


@bp.post("/account/signout-everywhere")
@transactional
def account_signout_everywhere() -> Response:
    revoke_all_sessions(_signed_in())
    end_session()
    return redirect(url_for(".signin_page"), 303)
