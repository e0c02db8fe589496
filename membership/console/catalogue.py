"""Catalogue (admin): tiers with their prices per currency and interval, trial lengths,
intro offers and promotion codes; sync with Stripe; create and switch off codes; set a
tier's trial; and change a price through the legal notice flow.

Tiers and prices come from the local mirror `flask catalog sync` keeps at Stripe;
promotion codes are read from Stripe, where they live. A price change is a form, then a
preview (GET: who gets which notice when, refused if too soon), then a confirm (POST)
that runs billing's `price_changes.announce` (the same scheduler `flask mail
price-change` runs), then a page of the notices it scheduled. The page's "Price changes"
section shows each announced change and how far it got (`billing/price_change_report.py`).

Each write is one unit of work, audited twice: the staff audit hook records every POST
(refused ones too) and the action adds a `catalogue.*` entry with what changed. Bad
input re-renders the page with the message next to its form and changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.billing import catalogue_admin, price_change_report, price_changes
from membership.billing.gateway.promotions import PromotionCode
from membership.billing.models import Plan, Price
from membership.billing.notices.policy import POLICIES
from membership.billing.notices.scheduling import PriceChangeTooSoon
from membership.console import catalogue_actions as forms
from membership.console.acting import act
from membership.console.auth import console_page, staff
from membership.console.blueprint import bp
from membership.console.members_actions import request_id
from membership.db import utcnow
from membership.errors import DomainError, NotFound
from membership.extensions import db
from membership.ledger.journal import outlet_zone
from membership.money import format_money
from membership.staff.models import AuditLog
from membership.unit_of_work import unit_of_work

READ, WRITE = "catalogue:read", "catalogue:write"


def _audit(action: str, target_type: str, target_id: str, details: dict[str, Any]) -> None:
    db.session.add(AuditLog(actor=staff().email, action=action, target_type=target_type, target_id=target_id,
                            details=details))


def _page(error: str | None = None, form: str = "", status: int = 200) -> tuple[str, int]:
    codes: list[PromotionCode] = []
    codes_error = None
    try:
        codes = catalogue_admin.promotion_codes()
    except DomainError as exc:
        codes_error = exc.detail
    today = datetime.now(outlet_zone()).date()
    return render_template("console/catalogue.html", tiers=catalogue_admin.tiers(codes), codes=codes,
                           codes_error=codes_error, error=error, error_form=form, today=today,
                           form=request.form if error else {}, request_id=secrets.token_urlsafe(18),
                           on_day=_on_day, local_day=_local_day, changes=price_change_report.changes()), status


def _on_day(unix: int | None) -> str:
    """A Stripe timestamp as the outlet's calendar date, for the codes' expiry."""
    if unix is None:
        return "—"
    return f"{datetime.fromtimestamp(unix, outlet_zone()):%d %b %Y}"


def _local_day(when: datetime) -> str:
    """A change's date as staff typed it: the outlet's calendar day (its midnight is the UTC evening before, east of UTC)."""
    return f"{when.astimezone(outlet_zone()):%d %b %Y}"


@bp.get("/catalogue")
@console_page(READ)
def catalogue() -> tuple[str, int]:
    return _page()


def _act(form: str, action: Callable[[], str]) -> Response | tuple[str, int]:
    return act(action, lambda detail, status: _page(detail, form, status), url_for("console.catalogue") + f"#{form}")


@bp.post("/catalogue/sync")
@console_page(READ, WRITE)
def catalogue_sync() -> Response | tuple[str, int]:
    def run() -> str:
        report = catalogue_admin.sync()
        _audit("catalogue.sync", "catalogue", "stripe", {"products": report.products, "prices": report.prices})
        return (f"Catalogue synced with Stripe: {report.products} product(s) and {report.prices} price(s) created; "
                "everything else was already there.")

    return _act("tiers", run)


@bp.post("/catalogue/promotion-codes")
@console_page(READ, WRITE)
def catalogue_create_code() -> Response | tuple[str, int]:
    def run() -> str:
        req = request_id(request.form.get("request_id"))
        new = forms.new_code(request.form, datetime.now(outlet_zone()).date())
        made = catalogue_admin.create_promotion_code(new, f"console-promo:{req}")
        _audit("catalogue.promotion_code.create", "promotion_code", made.id,
               {"code": made.code, "coupon": made.coupon.id, "percent_off": made.coupon.percent_off,
                "amount_off": made.coupon.amount_off, "currency": made.coupon.currency,
                "duration": made.coupon.duration, "max_redemptions": made.max_redemptions,
                "expires_at": made.expires_at, "intro": made.metadata.get("intro", "")})
        return f"Promotion code {made.code} created at Stripe ({made.id})."

    return _act("codes", run)


@bp.post("/catalogue/promotion-codes/<promotion_code_id>/deactivate")
@console_page(READ, WRITE)
def catalogue_deactivate_code(promotion_code_id: str) -> Response | tuple[str, int]:
    def run() -> str:
        done = catalogue_admin.deactivate_promotion_code(forms.promo_id(promotion_code_id))
        _audit("catalogue.promotion_code.deactivate", "promotion_code", done.id, {"code": done.code})
        return f"Promotion code {done.code} is switched off: readers can no longer use it."

    return _act("codes", run)


@bp.post("/catalogue/plans/<int:plan_id>/trial")
@console_page(READ, WRITE)
def catalogue_trial(plan_id: int) -> Response | tuple[str, int]:
    def run() -> str:
        plan = catalogue_admin.plan_or_404(plan_id)
        days = forms.trial_days(request.form.get("trial_days", ""))
        before = sorted(set(db.session.scalars(select(Price.trial_days).where(Price.plan_id == plan.id))))
        prices = catalogue_admin.set_trial_days(plan, days)
        _audit("catalogue.trial.set", "plan", str(plan.id), {"plan": plan.code, "trial_days": days,
                                                              "prices": [p.id for p in prices], "before": before})
        return (f"New {plan.name} subscriptions start with a {days}-day free trial." if days
                else f"New {plan.name} subscriptions start without a trial.")

    return _act(f"plan-{plan_id}", run)


def _change_page(price: Price, error: str | None = None, status: int = 200,
                 preview: price_changes.Preview | None = None) -> tuple[str, int]:
    plan = db.session.get_one(Plan, price.plan_id)
    return render_template("console/catalogue_price_change.html", price=price, plan=plan, error=error,
                           preview=preview, args=request.values, policy=POLICIES["price_change"],
                           earliest=forms.earliest_date(utcnow()),
                           step="preview" if preview else "form"), status


def _parsed(price: Price) -> tuple[int, datetime]:
    return (forms.new_amount(request.values.get("amount", ""), price),
            forms.effective_at(request.values.get("effective", "")))


@bp.get("/catalogue/prices/<int:price_id>/change")
@console_page(READ, WRITE)
def catalogue_price_change(price_id: int) -> tuple[str, int]:
    """The form; with `amount` and `effective` filled in, the preview and the confirm button."""
    price = forms.fixed_price(price_id)
    if "amount" not in request.args and "effective" not in request.args:
        return _change_page(price)
    try:
        amount, effective = _parsed(price)
        try:
            found = price_changes.preview(price.id, amount, effective)
        except PriceChangeTooSoon as exc:
            raise forms.too_soon(exc) from exc
    except NotFound:
        raise
    except DomainError as exc:
        return _change_page(price, exc.detail, exc.status)
    return _change_page(price, preview=found)


@bp.post("/catalogue/prices/<int:price_id>/change")
@console_page(READ, WRITE)
def catalogue_price_change_confirm(price_id: int) -> Response | tuple[str, int]:
    price = forms.fixed_price(price_id)
    try:
        with unit_of_work():
            amount, effective = _parsed(price)
            try:
                done = price_changes.announce(price.id, amount, effective)
            except PriceChangeTooSoon as exc:
                raise forms.too_soon(exc) from exc
            _audit("catalogue.price_change", "price", str(price.id),
                   {"old_amount_minor": price.amount_minor, "new_amount_minor": amount, "currency": price.currency,
                    "effective_at": effective.isoformat(), "new_price_id": done.new_price.id,
                    "new_stripe_price_id": done.new_price.stripe_price_id, "notices_created": done.created})
    except NotFound:
        raise
    except DomainError as exc:
        return _change_page(price, exc.detail, exc.status if exc.status < 500 else 502)
    change = (f"{format_money(price.amount_minor or 0, price.currency)} becomes {format_money(amount, price.currency)} "
              f"on {effective:%d %B %Y}")
    if done.created:
        flash(f"Price change announced: {change}. {done.created} notice(s) scheduled; the new Stripe price "
              f"{done.new_price.stripe_price_id} is made, not on sale until then.")
    else:
        flash(f"This price change was already announced ({change}): no new notice was needed.")
    return redirect(url_for("console.catalogue_price_change_done", price_id=price.id,
                            amount=request.form.get("amount", ""), effective=request.form.get("effective", "")), 303)


@bp.get("/catalogue/prices/<int:price_id>/change/done")
@console_page(READ)
def catalogue_price_change_done(price_id: int) -> tuple[str, int]:
    """The notices one announced change scheduled (from the notice rows themselves)."""
    price = forms.fixed_price(price_id)
    amount = forms.new_amount(request.args.get("amount", ""), price)
    effective = forms.effective_at(request.args.get("effective", ""))
    count, notices = price_changes.scheduled(price.id, amount, effective)
    return render_template("console/catalogue_price_change.html", price=price,
                           plan=db.session.get_one(Plan, price.plan_id), step="done", count=count, notices=notices,
                           amount=amount, effective=effective, policy=POLICIES["price_change"], args=request.args,
                           error=None, preview=None), 200
