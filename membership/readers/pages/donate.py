"""`/donate`: a one-time, monthly or yearly gift -> Stripe Checkout -> `/donate/thanks`.

Frequency and currency are links (`?frequency=month&currency=EUR`), so the preset
amounts shown are the ones for that choice without any script; a custom amount is
checked against the price's minimum and ceiling (billing/offerings.py) with the error
next to the field. "Cover the fees" adds exactly billing/fees.py's figure: the page
prints it for every preset, and a small script asks `/donate/fee` for a typed amount.
A gift may honour someone or remember them (TributeKind), carry a note, and be
anonymous; a one-time gift with a dedication may also name a person to tell, who is
mailed once the gift is paid (billing/tributes.py). A visitor who is not signed in gives an email address: the reader is
found or created by it (readers/pages/payer.py says why that is safe). The form is
the partial `readers/_donate_form.html`, so `/embed/donate` shows the same form.
Checkout and its rows are billing/checkout.py's, as for the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import jsonify, redirect, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.api.limits import per_ip_and_reader
from membership.billing import tributes
from membership.billing.checkout import ReturnUrls, start_checkout
from membership.billing.fees import fee_to_cover
from membership.billing.gateway.checkout import fetch_checkout_session
from membership.billing.gateway.errors import GatewayError
from membership.billing.models import Donation, Plan, PlanKind, Price
from membership.billing.offerings import ceiling
from membership.billing.processor import ProcessorError
from membership.billing.reader_schemas import CheckoutIn, TributeIn
from membership.enums import Interval
from membership.errors import InvalidInput
from membership.extensions import db
from membership.i18n import money
from membership.identity.consents import request_meta
from membership.identity.sessions import session_reader
from membership.money import MoneyError, from_minor, to_minor
from membership.readers.pages.blueprint import bp, message, page
from membership.readers.pages.fields import clean_email, clean_text
from membership.readers.pages.payer import payer_for
from membership.unit_of_work import transactional

FREQUENCIES = ("one_time", "month", "year")
_LIMITS = per_ip_and_reader("CHECKOUT")  # as /join
CURRENCIES = ("USD", "EUR")
PRESETS = {"one_time": (25, 50, 100), "month": (5, 10, 25), "year": (50, 100, 250)}  # major units
DEFAULT_PRESET = 1  # the middle one is chosen at first


@dataclass
class Donate:
    """What the form holds (as typed) and what is wrong with it, field by field."""

    frequency: str = "one_time"
    currency: str = "USD"
    amount: str = ""
    custom_amount: str = ""
    cover_fees: bool = False
    tribute: str = "none"
    honoree_name: str = ""
    note: str = ""
    anonymous: bool = False
    notify_name: str = ""
    notify_email: str = ""
    email: str = ""
    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _choice(raw: str | None, allowed: tuple[str, ...]) -> str:
    return raw if raw in allowed else allowed[0]


def price_for(frequency: str, currency: str) -> Price | None:
    kind = PlanKind.ONE_TIME_DONATION if frequency == "one_time" else PlanKind.RECURRING_DONATION
    interval = Interval.ONE_TIME if frequency == "one_time" else Interval(frequency)
    return db.session.scalar(
        select(Price).join(Plan, Plan.id == Price.plan_id)
        .where(Plan.kind == kind, Plan.active, Price.active, Price.currency == currency, Price.interval == interval,
               Price.amount_minor.is_(None)).order_by(Plan.id, Price.id))


def presets(price: Price) -> list[dict[str, Any]]:
    """The preset amounts this price accepts, each with its exact fee."""
    out = []
    for major in PRESETS[_frequency_of(price)]:
        minor = to_minor(major, price.currency)
        if max(price.min_amount_minor, 1) <= minor <= ceiling(price):
            fee = fee_to_cover(minor)
            out.append({"value": str(major), "label": money(minor, price.currency), "minor": minor,
                        "fee": money(fee, price.currency), "total": money(minor + fee, price.currency)})
    return out


def _frequency_of(price: Price) -> str:
    return "one_time" if price.interval is Interval.ONE_TIME else price.interval.value


def form_context(form: Donate | None = None) -> dict[str, Any]:
    """What `readers/_donate_form.html` needs (also for /embed/donate, with no argument)."""
    if form is None:
        form = Donate(frequency=_choice(request.args.get("frequency"), FREQUENCIES),
                      currency=_choice((request.args.get("currency") or "").upper(), CURRENCIES))
    price = price_for(form.frequency, form.currency)
    shown = presets(price) if price else []
    if not form.amount and not form.custom_amount and shown:
        form.amount = shown[min(DEFAULT_PRESET, len(shown) - 1)]["value"]
    chosen = next((p for p in shown if p["value"] == form.amount), shown[0] if shown else None)
    return {"form": form, "price": price, "presets": shown, "chosen": chosen,
            "frequencies": [(f, _frequency_names()[f]) for f in FREQUENCIES], "currencies": CURRENCIES,
            "minimum": money(max(price.min_amount_minor, 1), price.currency) if price else "",
            "maximum": money(ceiling(price), price.currency) if price else "",
            "ask_email": session_reader() is None, "action": "/donate", "embedded": False}


def _frequency_names() -> dict[str, str]:
    return {"one_time": _("One time"), "month": _("Monthly"), "year": _("Yearly")}


def _read_form() -> Donate:
    f = request.form
    return Donate(frequency=_choice(f.get("frequency"), FREQUENCIES),
                  currency=_choice((f.get("currency") or "").upper(), CURRENCIES),
                  amount=(f.get("amount") or "").strip()[:20], custom_amount=(f.get("custom_amount") or "").strip()[:20],
                  cover_fees=f.get("cover_fees") == "yes", tribute=_choice(f.get("tribute"), ("none", "honor", "memory")),
                  honoree_name=(f.get("honoree_name") or "").strip(), note=(f.get("note") or "").strip(),
                  anonymous=f.get("anonymous") == "yes", email=(f.get("email") or "").strip(),
                  notify_name=(f.get("notify_name") or "").strip(), notify_email=(f.get("notify_email") or "").strip(),
                  name=(f.get("name") or "").strip())


def parse_amount(raw: str, price: Price) -> int | str:
    """The amount in minor units, or the reason (translated) it cannot be taken."""
    text = raw.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    for symbol in ("$", "€"):
        text = text.replace(symbol, "")
    try:
        if not text or Decimal(text) != Decimal(text).quantize(Decimal("0.01")):
            raise MoneyError(text)
        minor = to_minor(text, price.currency)
    except (MoneyError, ArithmeticError, ValueError):
        return _("Enter an amount in numbers, like 30 or 12.50.")
    if minor < max(price.min_amount_minor, 1):
        return _("The smallest gift we can take is %(amount)s.", amount=money(max(price.min_amount_minor, 1),
                                                                             price.currency))
    if minor > ceiling(price):
        return _("The largest gift we can take here is %(amount)s.", amount=money(ceiling(price), price.currency))
    return minor


def _check(form: Donate, price: Price | None) -> tuple[int, CheckoutIn | None]:
    """Field errors into `form.errors`; the amount and the checkout request when all is well."""
    minor = 0
    if price is None:
        form.errors["amount"] = _("Giving in this currency is not available. Choose another one.")
    else:
        raw = form.custom_amount or form.amount
        result = parse_amount(raw, price) if raw else _("Choose or enter an amount.")
        if isinstance(result, str):
            form.errors["custom_amount" if form.custom_amount or not form.amount else "amount"] = result
        else:
            minor = result
    if form.tribute != "none":
        form.honoree_name = clean_text(form, "honoree_name", form.honoree_name, 200,
                                       _("Enter the name of the person you are giving for."), required=True)
    form.note = clean_text(form, "note", form.note, 1000, "")
    _check_notify(form)
    if session_reader() is None:
        form.email = clean_email(form, "email", form.email)
    form.name = clean_text(form, "name", form.name, 200, "")
    if form.errors or price is None:
        return minor, None
    plan = db.session.get_one(Plan, price.plan_id)
    data = CheckoutIn(plan=plan.code, currency=form.currency,
                      interval=None if form.frequency == "one_time" else form.frequency,  # type: ignore[arg-type]
                      amount=str(from_minor(minor, price.currency)), cover_fees=form.cover_fees,
                      anonymous=form.anonymous,
                      tribute=TributeIn(kind=form.tribute, name=form.honoree_name)  # type: ignore[arg-type]
                      if form.tribute != "none" else None,
                      message=form.note or None, accept_auto_renewal=form.frequency != "one_time")
    return minor, data


def _check_notify(form: Donate) -> None:
    """The person to tell (one-time gifts with a dedication): an address, a name if given."""
    if form.frequency != "one_time":
        form.notify_name = form.notify_email = ""
        return
    form.notify_name = clean_text(form, "notify_name", form.notify_name, 200, "")
    if form.notify_email and form.tribute == "none":
        form.errors["notify_email"] = _("Choose in honour or in memory of someone above, or leave this empty.")
    elif form.notify_email:
        form.notify_email = clean_email(form, "notify_email", form.notify_email)
    elif form.notify_name:
        form.errors["notify_email"] = _("Enter their email address, or leave both fields empty.")


def _form_page(form: Donate, status: int, template: str = "readers/donate.html") -> tuple[str, int]:
    ctx = form_context(form)
    return page(template, status, **ctx)


@bp.get("/donate")
def donate_page() -> tuple[str, int]:
    ctx = form_context()
    return page("readers/donate.html", cancelled=request.args.get("checkout") == "cancel", **ctx)


@bp.post("/donate")
@_LIMITS[0]
@_LIMITS[1]
def donate_post() -> Response | tuple[str, int]:
    """The page's form and the embedded one (readers/pages/embed.py calls this view)."""
    form = _read_form()
    price = price_for(form.frequency, form.currency)
    _minor, data = _check(form, price)
    if data is None:
        return _form_page(form, 400)
    try:
        return _start(form, data)
    except InvalidInput:
        form.errors["amount"] = _("This gift could not be set up. Please check your choices and try again.")
        return _form_page(form, 400)
    except ProcessorError:
        return message(_("Payment is not available right now"),
                       _("We could not reach our payment provider. Nothing was charged. Please try again in a "
                         "few minutes."), 503, error=True, link="/donate", link_text=_("Back to the form"))


@transactional
def _start(form: Donate, data: CheckoutIn) -> Response | tuple[str, int]:
    reader = payer_for(form.email, form.name)
    if reader is None:
        return message(_("Check your email"), _("This address already has an account with us. To keep it safe, "
                                                "we have sent it a sign-in link: open it, then come back to this "
                                                "page."), 202)
    base = request.host_url.rstrip("/")
    row = start_checkout(reader, data, request_meta(), ReturnUrls(
        f"{base}/donate/thanks?session_id={{CHECKOUT_SESSION_ID}}", f"{base}/donate?checkout=cancel"))
    if form.notify_email and data.tribute is not None:
        donation = db.session.scalars(select(Donation).where(
            Donation.stripe_checkout_session_id == row.stripe_session_id)).one()
        tributes.hold(donation, form.notify_name, form.notify_email)  # mailed once the gift is paid
    return redirect(row.url, 303)


@bp.get("/donate/fee")
def donate_fee() -> Response:
    """The exact fee for a typed amount (the form's script), from billing/fees.py."""
    frequency = _choice(request.args.get("frequency"), FREQUENCIES)
    currency = _choice((request.args.get("currency") or "").upper(), CURRENCIES)
    price = price_for(frequency, currency)
    result = parse_amount(request.args.get("amount", "")[:20], price) if price else ""
    if isinstance(result, str):
        return jsonify(error=result or _("Choose or enter an amount.")), 400  # type: ignore[return-value]
    fee = fee_to_cover(result)
    assert price is not None
    return jsonify(fee=money(fee, price.currency), total=money(result + fee, price.currency),
                   amount=money(result, price.currency))


@bp.get("/donate/thanks")
def donate_thanks() -> tuple[str, int]:
    """Reads the Checkout session, so it is right before the webhook arrives; shows only
    the amount and frequency (the session id in the address is all a visitor holds)."""
    session_id = request.args.get("session_id", "")
    amount, currency, recurring = None, None, False
    if session_id.startswith("cs_") and len(session_id) < 200:
        try:
            session = fetch_checkout_session(session_id)
        except GatewayError:  # unknown id, or Stripe unreachable: the page thanks without figures
            session = None
        if session is not None and session.metadata.get("kind") in ("one_time_donation", "recurring_donation"):
            amount, currency, recurring = session.amount_total, session.currency, session.mode == "subscription"
    return page("readers/donate_thanks.html", amount=amount, currency=currency, recurring=recurring)
