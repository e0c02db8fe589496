"""`/join`: the tiers, a monthly/yearly switch, prices in the chosen currency, an email,
an optional promotion code, and `Continue to payment` -> Stripe Checkout -> `/welcome`.

Who pays, when nobody is signed in (the reader is found or created by email):

- A new address: a reader row is created (unverified, in the page's language) and
  goes straight to Checkout on a new Stripe customer. Nothing about anyone else is
  at stake: the row has no history, and the address is proven later by the receipt
  mail and the first sign-in.
- An address we know, whose reader never verified it, never paid and is not a member
  (typically the same person's abandoned checkout a moment ago): the same, on that
  reader's customer. Such a customer has no saved card or history at Stripe, so a
  stranger typing the address would see nothing and could only pay for them.
- Any other known address: no Checkout on that reader's customer for an anonymous
  visitor (Checkout may show a customer's saved cards, and a membership is theirs to
  manage). We mail the address a sign-in link and say so; after signing in, the
  reader joins from their account. Such mails are capped per address (the sign-in
  limit), silently, so the page cannot be used to flood a mailbox.
- Signed in: the session's reader, whatever the email field says.

The answer differs between a new and a known address (Checkout, or "check your
email"), which tells a visitor that an address has an account here. We accept that
(every sign-up form does) rather than open a stranger's customer; the sign-in page
itself keeps answering the same for every address.

Consent to automatic renewal: the renewal terms (price, interval, how to cancel) stand
next to the `Continue to payment` button, and pressing it is the consent, recorded by
`billing.checkout` with the price shown (the discounted one when a code applies).

Bad input (no email, a malformed address, an unknown or expired code, a price that is
not on the page) re-renders the form with the message next to the field (400) before
anything is created; a refusal raised inside the unit of work rolls it back.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request
from flask_babel import gettext as _
from limits import parse as parse_limit
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from membership.api.limits import DEFAULTS as LIMIT_DEFAULTS
from membership.api.limits import per_ip_and_reader
from membership.api.validation import validate
from membership.billing.checkout import ReturnUrls, start_checkout
from membership.billing.entitlement import entitlement
from membership.billing.models import Payment, Plan, Price, Subscription
from membership.billing.promotions import AppliedPromotion, PromotionRefused, apply, lookup
from membership.billing.reader_schemas import CheckoutIn
from membership.errors import Conflict
from membership.extensions import db, limiter
from membership.i18n import current_language
from membership.identity.consents import request_meta
from membership.identity.models import Reader
from membership.identity.schemas import Email
from membership.identity.sessions import session_reader
from membership.readers import services
from membership.readers.pages.blueprint import bp, message, page
from membership.readers.pages.join_offers import (
    INTERVALS,
    JoinChoice,
    currencies,
    default_price_id,
    membership_prices,
    pick_currency,
    tiers,
)
from membership.unit_of_work import unit_of_work

_EMAIL = TypeAdapter(Email)
_LIMITS = per_ip_and_reader("CHECKOUT")
MAX_CODE = 64


def _code_error(reason: str) -> str:
    return {
        "unknown": _("We do not know this code. Check the spelling, or leave the field empty."),
        "expired": _("This code has expired or is no longer active."),
        "currency": _("This code is for payments in another currency."),
        "minimum": _("This code needs a larger purchase."),
        "customer": _("This code cannot be used with this account."),
    }.get(reason, _("This code cannot be used here."))


def _promos(code: str, rows: list[tuple[Plan, Price]], currency: str,
            choice: JoinChoice) -> dict[int, AppliedPromotion]:
    """The typed code on every price shown; an error next to the field when it fits none."""
    if not code:
        return {}
    try:
        promo = lookup(code)
    except PromotionRefused as refused:
        choice.errors["code"] = _code_error(refused.reason)
        return {}
    out: dict[int, AppliedPromotion] = {}
    reason = "unknown"
    for _plan, price in rows:
        if price.currency != currency:
            continue
        try:
            out[price.id] = apply(promo, price.amount_minor or 0, price.currency, price.interval)
        except PromotionRefused as refused:
            reason = refused.reason
    if not out:
        choice.errors["code"] = _code_error(reason)
    return out


def form_context(choice: JoinChoice | None = None) -> dict[str, Any]:
    """What `readers/_join_form.html` needs (also used by /embed/join)."""
    if choice is None:
        choice = _choice_from(request.args)
    rows = membership_prices()
    available = currencies(rows)
    choice.currency = pick_currency(choice.currency, available)
    cards = tiers(rows, choice.currency, _promos(choice.code, rows, choice.currency, choice))
    valid_ids = {int(p["id"]) for c in cards for p in c["prices"].values() if p["interval"] == choice.interval}
    if choice.price_id not in valid_ids:
        choice.price_id = default_price_id(cards, choice.interval)
    return {"tiers": cards, "choice": choice, "currencies": available, "intervals": INTERVALS,
            "action": "/join", "embedded": False, "reader_email": _signed_in_email()}


def _signed_in_email() -> str:
    reader = session_reader()
    return reader.email if reader is not None else ""


def _choice_from(values: Any) -> JoinChoice:
    interval = values.get("interval", "month")
    raw_price = str(values.get("price", "")).strip()
    return JoinChoice(interval=interval if interval in INTERVALS else "month",
                      currency=str(values.get("currency", "")), price_id=int(raw_price) if raw_price.isdigit()
                      and len(raw_price) < 19 else None, email=str(values.get("email", "")).strip()[:320],
                      code=str(values.get("code", "")).strip()[:MAX_CODE])


def _render(choice: JoinChoice | None = None, status: int = 200) -> tuple[str, int]:
    return page("readers/join.html", status, **form_context(choice))


@bp.get("/join")
def join_page() -> tuple[str, int]:
    choice = _choice_from(request.args)
    ctx = form_context(choice)
    reader = session_reader()
    member = reader is not None and entitlement(reader.id).source == "subscription"
    return page("readers/join.html", 200, already_member=member, **ctx)


def _chosen_price(raw: str) -> tuple[Plan, Price] | None:
    if not raw.isdigit() or len(raw) > 18:
        return None
    for plan, price in membership_prices():
        if price.id == int(raw):
            return plan, price
    return None


def _check_email(choice: JoinChoice) -> None:
    if _signed_in_email():
        return
    if not choice.email:
        choice.errors["email"] = _("Enter your email address: your receipt and sign-in links go there.")
        return
    try:
        choice.email = str(_EMAIL.validate_python(choice.email))
    except ValidationError:
        choice.errors["email"] = _("Enter a valid email address, like name@example.org.")


def _check_code(choice: JoinChoice, price: Price) -> None:
    if not choice.code:
        return
    if not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in choice.code):
        choice.errors["code"] = _code_error("unknown")
        return
    try:
        apply(lookup(choice.code), price.amount_minor or 0, price.currency, price.interval)
    except PromotionRefused as refused:
        choice.errors["code"] = _code_error(refused.reason)


def _fresh(reader: Reader) -> bool:
    """Never verified, never paid, no subscription: nothing at Stripe a stranger could see."""
    if reader.email_verified_at is not None or entitlement(reader.id).active:
        return False
    paid = db.session.scalar(select(exists().where(Payment.reader_id == reader.id)))
    subscribed = db.session.scalar(select(exists().where(Subscription.reader_id == reader.id)))
    return not paid and not subscribed


def _may_mail(email: str) -> bool:
    """The sign-in mail budget per address (RATELIMIT_SIGNIN_PER_EMAIL), shared in spirit
    with /signin; a storage failure lets the mail go (Redis loss must not block readers)."""
    rule = str(current_app.config.get("RATELIMIT_SIGNIN_PER_EMAIL", LIMIT_DEFAULTS["SIGNIN_PER_EMAIL"]))
    prefix = current_app.config["SETTINGS"].broker_key_prefix
    try:
        return bool(limiter.limiter.hit(parse_limit(rule), prefix + "join-signin", email))
    except Exception:  # any storage error: fail open, as the limiter itself does
        return True


def _payer(choice: JoinChoice) -> Reader | None:
    """The reader who pays, or None when the address must sign in first (mail sent). Flushes."""
    reader = session_reader()
    if reader is not None:
        return reader
    reader = db.session.scalar(select(Reader).where(Reader.email == choice.email, Reader.deleted_at.is_(None)))
    if reader is None:
        try:
            with db.session.begin_nested():  # a double click races for the same new address
                reader = Reader(email=choice.email, language=current_language())
                db.session.add(reader)
                db.session.flush()
            return reader
        except IntegrityError:
            reader = db.session.scalars(select(Reader).where(Reader.email == choice.email)).one()
    if _fresh(reader):
        return reader
    if _may_mail(choice.email):
        services.request_sign_in(choice.email)
    return None


def _returns() -> ReturnUrls:
    base = current_app.config["SETTINGS"].public_url.rstrip("/")
    return ReturnUrls(f"{base}/welcome?session_id={{CHECKOUT_SESSION_ID}}", f"{base}/checkout/cancelled?from=join")


def _checkout_in(plan: Plan, price: Price, code: str) -> CheckoutIn:
    return validate(CheckoutIn, {"plan": plan.code, "currency": price.currency, "interval": price.interval.value,
                                 "accept_auto_renewal": True, "promotion_code": code or None})


def _start(choice: JoinChoice, plan: Plan, price: Price) -> str | None:
    """Checkout's URL, or None when a sign-in link was mailed instead."""
    with unit_of_work():
        reader = _payer(choice)
        if reader is None:
            return None
        row = start_checkout(reader, _checkout_in(plan, price, choice.code), request_meta(), _returns())
        return row.url


@bp.post("/join")
@_LIMITS[0]
@_LIMITS[1]
def join_post() -> Any:
    choice = _choice_from(request.form)
    chosen = _chosen_price(str(request.form.get("price", "")).strip())
    if chosen is None:
        return message(_("That choice is not available"),
                       _("The membership you sent is not one we offer. Please choose again."), 400, error=True,
                       link="/join", link_text=_("Back to the memberships"))
    plan, price = chosen
    choice.interval, choice.currency = price.interval.value, price.currency
    if request.form.get("apply"):
        ctx = form_context(choice)
        return page("readers/join.html", 400 if choice.errors else 200, applied=not choice.errors, **ctx)
    _check_email(choice)
    _check_code(choice, price)
    if choice.errors:
        return _render(choice, 400)
    try:
        url = _start(choice, plan, price)
    except PromotionRefused as refused:
        choice.errors["code"] = _code_error(refused.reason)
        return _render(choice, 400)
    except Conflict:
        return message(_("You are already a member"), _("Thank you! Change your membership from your account."),
                       409, link="/account", link_text=_("Your account"))
    if url is None:
        return message(_("Check your email"), _("This address already has an account with us. To keep it safe, "
                                                "we have sent it a sign-in link: open it, then choose Join again."),
                       202)
    return redirect(url, 303)
