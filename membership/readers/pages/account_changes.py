"""Changing a subscription from the account: cancel, resume, plan, a gift's amount.

Cancelling is one page (an optional reason, one button) and then a confirmation
that says until when the reader keeps access: never longer than joining was. A plan
change says before the click what happens: an upgrade starts now and the difference
is charged today; a downgrade waits for the renewal (a subscription schedule at
Stripe) and the account shows it as planned. Bad input redraws the form with a
message next to it (400) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.billing import mrr, selfservice
from membership.billing.models import Plan, PlanKind, Price, Subscription
from membership.billing.offerings import ceiling
from membership.billing.processor import ProcessorError
from membership.enums import Interval, Stream
from membership.errors import InvalidInput
from membership.extensions import db
from membership.i18n import named
from membership.readers.pages.account_common import REASON_CODES, per, reader_errors, reasons
from membership.readers.pages.blueprint import bp, page, signed_in
from membership.unit_of_work import transactional

_COMMENT_MAX = 500


def _monthly(amount: int, interval: Interval) -> int:
    return mrr.monthly_minor(amount, 1, "year" if interval is Interval.YEAR else "month")


def _plan_name(sub: Subscription) -> str | None:
    name = db.session.scalar(select(Plan.name).join(Price).where(Price.id == sub.price_id)) if sub.price_id else None
    return named(name) if name else None


@bp.get("/account/subscriptions/<int:subscription_id>/cancel")
@reader_errors
def cancel_page(subscription_id: int) -> tuple[str, int]:
    sub = selfservice.own_subscription(signed_in(), subscription_id)
    return page("readers/account_cancel.html", sub=sub, plan=_plan_name(sub), reasons=reasons())


@bp.post("/account/subscriptions/<int:subscription_id>/cancel")
@reader_errors
@transactional
def account_cancel(subscription_id: int) -> Response:
    reason = request.form.get("reason") or None
    if reason is not None and reason not in REASON_CODES:
        reason = "other"
    comment = (request.form.get("comment") or "").strip()[:_COMMENT_MAX] or None
    selfservice.cancel(signed_in(), subscription_id, reason, comment)
    return redirect(url_for(".cancelled_page", subscription_id=subscription_id), 303)


@bp.get("/account/subscriptions/<int:subscription_id>/cancelled")
@reader_errors
def cancelled_page(subscription_id: int) -> tuple[str, int]:
    sub = selfservice.own_subscription(signed_in(), subscription_id)
    return page("readers/account_cancelled.html", sub=sub, plan=_plan_name(sub))


@bp.post("/account/subscriptions/<int:subscription_id>/resume")
@reader_errors
@transactional
def account_resume(subscription_id: int) -> Response:
    selfservice.resume(signed_in(), subscription_id)
    return redirect(url_for(".account", notice="resumed"), 303)


def _plan_options(sub: Subscription) -> list[dict[str, Any]]:
    """Every other membership price in the subscription's currency, saying what a switch does."""
    rows = db.session.execute(select(Price, Plan).join(Plan).where(
        Plan.kind == PlanKind.MEMBERSHIP, Plan.active, Price.active, Price.currency == sub.currency,
        Price.amount_minor.is_not(None), Price.id != sub.price_id).order_by(Plan.rank, Price.interval))
    current = _monthly(sub.unit_amount_minor, sub.interval)
    return [{"id": price.id, "name": plan.name, "amount_minor": price.amount_minor, "currency": price.currency,
             "per": per(price.interval), "upgrade": _monthly(price.amount_minor or 0, price.interval) > current}
            for price, plan in rows]


def _plan_form(sub: Subscription, status: int = 200, error: str | None = None) -> tuple[str, int]:
    pending = None
    try:
        pending = selfservice.pending_plan(sub)
    except ProcessorError:  # the form works without knowing a planned change
        pending = None
    return page("readers/account_plan.html", status, sub=sub, plan=_plan_name(sub), options=_plan_options(sub),
                per=per(sub.interval), pending=pending, error=error)


@bp.get("/account/subscriptions/<int:subscription_id>/plan")
@reader_errors
def plan_page(subscription_id: int) -> tuple[str, int]:
    sub = selfservice.own_subscription(signed_in(), subscription_id)
    if sub.stream is not Stream.MEMBERSHIP:
        raise InvalidInput("Only a membership has plans.")
    return _plan_form(sub)


@bp.post("/account/subscriptions/<int:subscription_id>/plan")
@reader_errors
@transactional
def account_plan(subscription_id: int) -> Response | tuple[str, int]:
    reader = signed_in()
    sub = selfservice.own_subscription(reader, subscription_id)
    raw = request.form.get("price_id", "")
    allowed = {str(o["id"]): o for o in _plan_options(sub)} | ({str(sub.price_id): None} if sub.price_id else {})
    if raw not in allowed:
        return _plan_form(sub, 400, _("Choose one of the plans below."))
    before = sub.price_id
    selfservice.change_plan(reader, subscription_id, int(raw))
    option = allowed[raw]
    notice = "kept" if int(raw) == before else ("upgraded" if option and option["upgrade"] else "scheduled")
    return redirect(url_for(".account", notice=notice), 303)


def _gift_price(sub: Subscription) -> Price | None:
    return db.session.scalar(select(Price).join(Plan).where(
        Plan.kind == PlanKind.RECURRING_DONATION, Price.currency == sub.currency, Price.interval == sub.interval))


def _amount_form(sub: Subscription, status: int = 200, error: str | None = None, value: str = "") -> tuple[str, int]:
    price = _gift_price(sub)
    bounds = (max(price.min_amount_minor, 1), ceiling(price)) if price is not None else None
    return page("readers/account_amount.html", status, sub=sub, per=per(sub.interval), bounds=bounds,
                error=error, value=value)


def _gift(subscription_id: int) -> Subscription:
    sub = selfservice.own_subscription(signed_in(), subscription_id)
    if sub.stream is not Stream.RECURRING_DONATION:
        raise InvalidInput("Only a recurring gift has an amount to change.")
    return sub


@bp.get("/account/subscriptions/<int:subscription_id>/amount")
@reader_errors
def amount_page(subscription_id: int) -> tuple[str, int]:
    return _amount_form(_gift(subscription_id))


@bp.post("/account/subscriptions/<int:subscription_id>/amount")
@reader_errors
@transactional
def account_amount(subscription_id: int) -> Response | tuple[str, int]:
    sub = _gift(subscription_id)
    raw = request.form.get("amount", "").strip()[:20]
    try:
        selfservice.change_amount(signed_in(), subscription_id, raw)
    except InvalidInput:
        return _amount_form(sub, 400, _("Enter an amount within the limits shown, such as 10 or 12.50."), raw)
    return redirect(url_for(".account", notice="amount"), 303)
