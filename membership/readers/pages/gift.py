"""`/gift`: buy a year of membership for someone -> Checkout -> `/gift/thanks`; and
`/redeem`, where the recipient takes it, without a card.

The buyer names the recipient (name, email), the day it arrives and a message. When
the payment succeeds the code is minted and mailed to the recipient on that day
(billing/gifts.py: the notice row, due that morning, is the schedule); the buyer gets
the payment receipt. A buyer who is not signed in is found or created by email as on
/donate (readers/pages/payer.py).

`/redeem?code=...` (the mail's link) shows the code filled in and a button; the POST
redeems. Who gets the membership:

- Signed in: the signed-in reader (a code can be passed on, as before).
- Not signed in: the reader with the gift's recipient address, found or created. The
  code travelled only to that address, so whoever holds it read that mailbox (or was
  handed the code by its owner). A reader created here has nothing but this gift, so
  they are signed in at once and land on their account. An address that already had
  an account is NOT signed in by a code (a forwarded mail must not open an existing
  account with its history and card): the gift is added to it and a sign-in link is
  mailed to the address, and the page says so.

A code that is unknown, used, or the buyer's own is the form again with the reason
(400), and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.api.limits import per_ip_and_reader
from membership.billing import gifts
from membership.billing.checkout import ReturnUrls, start_checkout
from membership.billing.gateway.checkout import fetch_checkout_session
from membership.billing.gateway.errors import GatewayError
from membership.billing.models import GiftMembership, Plan, PlanKind, Price
from membership.billing.processor import ProcessorError
from membership.billing.reader_schemas import CheckoutIn, GiftIn
from membership.enums import Interval
from membership.errors import InvalidInput
from membership.extensions import db
from membership.i18n import money
from membership.identity.consents import request_meta
from membership.identity.links import send_sign_in_link
from membership.identity.sessions import session_reader, start_session
from membership.readers.pages.blueprint import bp, message, page
from membership.readers.pages.fields import clean_email, clean_text
from membership.readers.pages.payer import found_or_created, payer_for
from membership.unit_of_work import transactional

_LIMITS = per_ip_and_reader("CHECKOUT")  # as /join
CURRENCIES = ("USD", "EUR")
GIFT_MONTHS = 12


@dataclass
class Gift:
    plan: str = ""
    currency: str = "USD"
    recipient_name: str = ""
    recipient_email: str = ""
    deliver_on: str = ""
    message: str = ""
    email: str = ""
    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def tiers(currency: str) -> list[dict[str, Any]]:
    """Membership plans with a yearly price in `currency`: what a year as a gift costs."""
    rows = db.session.execute(
        select(Plan, Price).join(Price, Price.plan_id == Plan.id)
        .where(Plan.kind == PlanKind.MEMBERSHIP, Plan.active, Price.active, Price.currency == currency,
               Price.interval == Interval.YEAR, Price.amount_minor.is_not(None))
        .order_by(Plan.rank, Plan.id, Price.id)).all()
    seen: dict[str, dict[str, Any]] = {}
    for plan, price in rows:
        seen.setdefault(plan.code, {"code": plan.code, "name": plan.name,
                                    "price": money(price.amount_minor or 0, currency)})
    return list(seen.values())


def _context(form: Gift) -> dict[str, Any]:
    offered = tiers(form.currency)
    if not form.plan and offered:
        form.plan = offered[0]["code"]
    today = gifts.outlet_today()
    return {"form": form, "tiers": offered, "currencies": CURRENCIES, "today": today.isoformat(),
            "latest": (today + gifts.MAX_DELIVERY_AHEAD).isoformat(), "ask_email": session_reader() is None,
            "action": "/gift"}


@bp.get("/gift")
def gift_page() -> tuple[str, int]:
    currency = (request.args.get("currency") or "").upper()
    form = Gift(currency=currency if currency in CURRENCIES else CURRENCIES[0],
                deliver_on=gifts.outlet_today().isoformat())
    return page("readers/gift.html", cancelled=request.args.get("checkout") == "cancel", **_context(form))


def _read_form() -> Gift:
    f = request.form
    currency = (f.get("currency") or "").upper()
    return Gift(plan=(f.get("plan") or "").strip()[:64], currency=currency if currency in CURRENCIES else "USD",
                recipient_name=(f.get("recipient_name") or "").strip(),
                recipient_email=(f.get("recipient_email") or "").strip(),
                deliver_on=(f.get("deliver_on") or "").strip()[:20], message=(f.get("message") or "").strip(),
                email=(f.get("email") or "").strip(), name=(f.get("name") or "").strip())


def _delivery(form: Gift) -> date | None:
    try:
        day = date.fromisoformat(form.deliver_on)
    except ValueError:
        form.errors["deliver_on"] = _("Enter a date like %(example)s.", example=gifts.outlet_today().isoformat())
        return None
    if day < gifts.outlet_today():
        form.errors["deliver_on"] = _("This date has passed. Choose today or a later day.")
    elif day > gifts.outlet_today() + gifts.MAX_DELIVERY_AHEAD:
        form.errors["deliver_on"] = _("Choose a day within the next year.")
    return day


def _check(form: Gift) -> CheckoutIn | None:
    if form.plan not in {t["code"] for t in tiers(form.currency)}:
        form.errors["plan"] = _("Choose a membership.")
    form.recipient_name = clean_text(form, "recipient_name", form.recipient_name, 200,
                                     _("Enter the name of the person you are giving to."), required=True)
    recipient = clean_email(form, "recipient_email", form.recipient_email)
    if "recipient_email" in form.errors and form.recipient_email == "":
        form.errors["recipient_email"] = _("Enter their email address: the gift is sent there.")
    day = _delivery(form)
    form.message = clean_text(form, "message", form.message, 1000, "")
    if session_reader() is None:
        form.email = clean_email(form, "email", form.email)
    form.name = clean_text(form, "name", form.name, 200, "")
    if not form.errors and recipient and recipient == (form.email.lower() or _own_email()):
        form.errors["recipient_email"] = _("A gift is for someone else: enter their address, not yours.")
    if form.errors or day is None:
        return None
    return CheckoutIn(plan=form.plan, currency=form.currency,
                      gift=GiftIn(recipient_email=recipient, recipient_name=form.recipient_name,
                                  message=form.message or None, months=GIFT_MONTHS, deliver_on=day))


def _own_email() -> str:
    reader = session_reader()
    return reader.email if reader else ""


@bp.post("/gift")
@_LIMITS[0]
@_LIMITS[1]
def gift_post() -> Response | tuple[str, int]:
    form = _read_form()
    data = _check(form)
    if data is None:
        return page("readers/gift.html", 400, **_context(form))
    try:
        return _start(form, data)
    except InvalidInput:
        form.errors["plan"] = _("This gift could not be set up. Please check your choices and try again.")
        return page("readers/gift.html", 400, **_context(form))
    except ProcessorError:
        return message(_("Payment is not available right now"),
                       _("We could not reach our payment provider. Nothing was charged. Please try again in a "
                         "few minutes."), 503, error=True, link="/gift", link_text=_("Back to the form"))


@transactional
def _start(form: Gift, data: CheckoutIn) -> Response | tuple[str, int]:
    buyer = payer_for(form.email, form.name)
    if buyer is None:
        return message(_("Check your email"), _("This address already has an account with us. To keep it safe, "
                                                "we have sent it a sign-in link: open it, then come back to this "
                                                "page."), 202)
    base = request.host_url.rstrip("/")
    row = start_checkout(buyer, data, request_meta(), ReturnUrls(
        f"{base}/gift/thanks?session_id={{CHECKOUT_SESSION_ID}}", f"{base}/gift?checkout=cancel"))
    return redirect(row.url, 303)


@bp.get("/gift/thanks")
def gift_thanks() -> tuple[str, int]:
    """From the Checkout session (right before the webhook): the date it arrives, no more."""
    session_id = request.args.get("session_id", "")
    deliver_on: date | None = None
    if session_id.startswith("cs_") and len(session_id) < 200:
        try:
            session = fetch_checkout_session(session_id)
            if session.metadata.get("kind") == "gift_membership" and session.metadata.get("deliver_on"):
                deliver_on = date.fromisoformat(session.metadata["deliver_on"])
        except (GatewayError, ValueError):
            deliver_on = None
    return page("readers/gift_thanks.html", deliver_on=deliver_on,
                today=deliver_on is not None and deliver_on <= gifts.outlet_today())


# -- redeeming -------------------------------------------------------------------------

@bp.get("/redeem")
def redeem_page() -> tuple[str, int]:
    code = (request.args.get("code") or "").strip()[:40]
    return page("readers/redeem.html", code=code, error=None)


@bp.post("/redeem")
def redeem_post() -> Response | tuple[str, int]:
    code = (request.form.get("code") or "").strip()[:60]
    try:
        return _redeem(code)
    except (gifts.GiftCodeInvalid, InvalidInput):
        error = _("This code is unknown or has already been used. Check it against the mail, or write to us.") \
            if gifts.normalise(code) else _("Enter the gift code from the mail.")
        return page("readers/redeem.html", 400, code=code, error=error)


@transactional
def _redeem(code: str) -> Response | tuple[str, int]:
    reader = session_reader()
    if reader is not None:
        gifts.redeem(reader, code)
        return redirect(url_for(".account", notice="gift"), 303)
    gift = db.session.scalar(select(GiftMembership).where(GiftMembership.code_hash == gifts.hash_code(code)))
    if gift is None or gift.status != "paid":
        raise gifts.GiftCodeInvalid("unknown or used")
    recipient, created = found_or_created(gift.recipient_email, gift.recipient_name)
    gifts.redeem(recipient, code)
    if created:
        start_session(recipient)
        return redirect(url_for(".account", notice="gift"), 303)
    send_sign_in_link(recipient)
    return page("readers/redeem_done.html")
