"""Render a notice into (subject, text, html) from its Jinja templates.

Templates live in `templates/<kind>.txt` and `templates/<kind>.html`, extending a shared
layout that prints the outlet's name and postal address and, on renewal-law notices,
how to cancel with a one-click link to the reader's account page. The environment is
our own (not Flask's), because workers render outside any request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from membership.config import Settings
from membership.mail.kinds import LOADERS, RENEWAL_LAW_KINDS, reader_name
from membership.mail.models import Notice
from membership.mail.secrets import unseal

TEMPLATES = Path(__file__).resolve().parent / "templates"

SUBJECTS: dict[str, str] = {
    "confirm_signup": "Confirm your email for {outlet}",
    "magic_link": "Your sign-in link for {outlet}",
    "welcome": "Welcome to {outlet}",
    "gift_delivered": "You have been given a membership of {outlet}",
    "payment_receipt": "Your receipt from {outlet}",
    "payment_failed": "Your payment to {outlet} did not go through",
    "checkout_payment_failed": "Your bank payment to {outlet} did not go through",
    "trial_ending": "Your free trial of {plan_name} ends on {trial_end}",
    "trial_will_end": "Your free trial of {plan_name} ends on {trial_end}",
    "renewal_notice": "Your {plan_name} renews on {period_end}",
    "annual_reminder": "Yearly reminder: your {plan_name} at {outlet} renews automatically",
    "price_change": "The price of your {plan_name} changes on {effective_on}",
    "card_expiring": "The card paying for your {plan_name} expires soon",
    "cancellation_confirmation": "Your {plan_name} is cancelled",
    "year_end_statement": "Your {year} giving statement from {outlet}",
}


class UnknownKind(ValueError):
    """A notice kind with no templates: a programming error, the row fails."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def base_vars(notice: Notice, settings: Settings) -> dict[str, Any]:
    """What the layout needs on every notice."""
    account_url = f"{settings.public_url.rstrip('/')}/account"
    return {
        "outlet": settings.outlet_name,
        "postal_address": settings.outlet_postal_address,
        "public_url": settings.public_url.rstrip("/"),
        "account_url": account_url,
        "cancel_url": account_url,
        "renewal_law": notice.kind in RENEWAL_LAW_KINDS,
        "reader_name": reader_name(notice.reader_id),
        "email": notice.email,
        "fiscal_status": settings.fiscal_status,
    }


def render_notice(notice: Notice, settings: Settings) -> Rendered:
    """Subject, text and HTML of one notice; raises UnknownKind, NotFound (missing rows) or
    SecretUnreadable (a sealed link no configured key opens)."""
    if notice.kind not in SUBJECTS or notice.kind not in LOADERS:
        raise UnknownKind(f"no templates for notice kind '{notice.kind}'")
    context: dict[str, Any] = unseal(json.loads(notice.context or "{}"))
    variables = base_vars(notice, settings) | LOADERS[notice.kind](context, settings)
    env = environment()
    text = env.get_template(f"{notice.kind}.txt").render(variables)
    html = env.get_template(f"{notice.kind}.html").render(variables)
    subject = SUBJECTS[notice.kind].format(**variables)
    return Rendered(subject=" ".join(subject.split()), text=text, html=html)
