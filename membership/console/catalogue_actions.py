"""The Catalogue page's forms read into values the billing services take, refusing bad
input with a message a person can act on (shown next to the form, 400, nothing changed).

Dates typed on the page are the outlet's calendar dates (a bare date means midnight in
`OUTLET_TIMEZONE`, as `flask mail price-change` reads it), so "the earliest allowed
date" is said in the same terms.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from werkzeug.datastructures import MultiDict

from membership.billing.gateway.promotion_admin import NewCode
from membership.billing.models import Price
from membership.billing.notices.policy import POLICIES
from membership.billing.notices.scheduling import PriceChangeTooSoon
from membership.errors import InvalidInput, NotFound
from membership.extensions import db
from membership.ledger.journal import outlet_zone
from membership.money import MoneyError, format_money, normalize_currency, to_minor

CODE = re.compile(r"^[A-Za-z0-9-]{3,40}$")
PROMO_ID = re.compile(r"^promo_[A-Za-z0-9]{1,64}$")
INTRO = re.compile(r"^(\*|[a-z0-9-]{1,64}(,[a-z0-9-]{1,64})*)$")
DURATIONS = ("once", "forever", "repeating")
MAX_REDEMPTIONS = 1_000_000


class TooSoon(InvalidInput):
    """The date leaves less than the legal minimum notice: a plain 400 that names the
    earliest allowed date."""

    status, title = 400, "Too soon for the legal notice"


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"Give the {what} as a date (YYYY-MM-DD), such as 2027-01-31.") from exc


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=outlet_zone())


def _whole(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"Give the {what} as a whole number.") from exc
    if not low <= value <= high:
        raise InvalidInput(f"The {what} must be between {low} and {high}.")
    return value


def new_code(form: MultiDict[str, str], today: date) -> NewCode:
    """The promotion code form: a code, percent or amount off, how long, limits, intro tiers."""
    code = form.get("code", "").strip()
    if not CODE.match(code):
        raise InvalidInput("The code is 3 to 40 letters, digits or dashes, such as SPRING-27.")
    percent = amount = currency = None
    if form.get("discount") == "percent":
        try:
            pct = Decimal(form.get("percent_off", "").strip().replace(",", "."))
        except InvalidOperation as exc:
            raise InvalidInput("Give the percentage off as a number, such as 20.") from exc
        if not Decimal("0") < pct <= Decimal("100") or pct.as_tuple().exponent < -2:  # type: ignore[operator]
            raise InvalidInput("The percentage off is more than 0 and at most 100, with at most two decimals.")
        percent = float(pct)
    elif form.get("discount") == "amount":
        try:
            currency = normalize_currency(form.get("currency", ""))
            amount = to_minor(form.get("amount_off", "").strip().replace(",", "."), currency)
        except (MoneyError, InvalidOperation, ValueError) as exc:
            raise InvalidInput("Give the amount off as a number in the chosen currency, such as 5.00.") from exc
        if amount <= 0:
            raise InvalidInput("The amount off must be more than zero.")
    else:
        raise InvalidInput("Choose a percentage off or an amount off.")
    duration = form.get("duration", "")
    if duration not in DURATIONS:
        raise InvalidInput("Choose how long the discount lasts: the first payment, every payment, or some months.")
    months = _whole(form.get("months", ""), "number of months", 1, 36) if duration == "repeating" else None
    limit = form.get("max_redemptions", "").strip()
    most = _whole(limit, "most redemptions", 1, MAX_REDEMPTIONS) if limit else None
    expires = form.get("expires", "").strip()
    expires_at = None
    if expires:
        day = _date(expires, "expiry date")
        if day <= today:
            raise InvalidInput("The expiry date must be after today.")
        expires_at = int(local_midnight(day).timestamp())
    intro = form.get("intro", "").strip()
    if intro and not INTRO.match(intro):
        raise InvalidInput("Choose the tier the code introduces from the list.")
    return NewCode(code, percent, amount, currency, duration, months, most, expires_at,
                   {"intro": intro, "source": "console"} if intro else {"source": "console"})


def promo_id(raw: str) -> str:
    if not PROMO_ID.match(raw):
        raise NotFound("No such promotion code.")
    return raw


def trial_days(text: str) -> int:
    return _whole(text, "trial length in days", 0, 365)


def fixed_price(price_id: int) -> Price:
    price = db.session.get(Price, price_id)
    if price is None:
        raise NotFound(f"No price {price_id}.")
    if price.amount_minor is None:
        raise InvalidInput("A pay-what-you-want price has no amount to change.")
    return price


def new_amount(text: str, price: Price) -> int:
    try:
        minor = to_minor(text.strip().replace(",", "."), price.currency)
    except (MoneyError, InvalidOperation, ValueError, OverflowError) as exc:
        raise InvalidInput(f"Write the new amount as a number in {price.currency}, such as 12.00.") from exc
    if minor <= 0:
        raise InvalidInput("The new amount must be more than zero.")
    if minor == price.amount_minor:
        raise InvalidInput(f"The price is already {format_money(minor, price.currency)}: give a different amount.")
    return minor


def effective_at(text: str) -> datetime:
    return local_midnight(_date(text, "date the new price applies"))


def earliest_date(now: datetime) -> date:
    """The first outlet calendar date whose midnight still leaves the legal minimum notice."""
    first = (now + POLICIES["price_change"].legal_min).astimezone(outlet_zone())
    return first.date() if first.time() == time(0) else first.date() + timedelta(days=1)


def too_soon(exc: PriceChangeTooSoon) -> TooSoon:
    policy = POLICIES["price_change"]
    day = earliest_date(exc.earliest - policy.legal_min)
    return TooSoon(f"Too soon: readers must be told at least {policy.legal_min.days} days before a price "
                        f"changes (the legal window is {policy.legal_min.days} to {policy.legal_max.days} days "
                        f"before). The earliest allowed date is {day:%d %B %Y} ({day.isoformat()}).")
