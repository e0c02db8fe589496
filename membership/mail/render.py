"""Render a notice into (subject, text, html) from its Jinja templates, in the reader's language.

Templates live in `templates/<kind>.txt` and `templates/<kind>.html`, extending a shared
layout that prints the outlet's name and postal address and, on renewal-law notices,
how to cancel with a one-click link to the reader's account page. The environment is
our own (not Flask's), because workers render outside any request; it carries the same
gettext and `|money`/`|day`/`|number` filters as the pages.

Every notice is rendered inside `i18n.in_language(<the reader's stored language>)`: the
subject, the words of the templates (catalog `translations/`) and the amounts and dates
the loaders format all follow it, whatever page or task recorded the notice. The text
and HTML parts share their sentences (one msgid each): emphasis in HTML is added
around a value (`|strong`), never inside the translated sentence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask_babel import gettext, ngettext
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from membership.config import Settings
from membership.i18n import day, in_language, money, named, number
from membership.mail.kinds import LOADERS, RENEWAL_LAW_KINDS, reader_language, reader_name
from membership.mail.models import Notice
from membership.mail.secrets import unseal

TEMPLATES = Path(__file__).resolve().parent / "templates"


def N_(message: str) -> str:
    """Marks a subject for extraction (`make translations`); it is translated when rendered."""
    return message


SUBJECTS: dict[str, str] = {
    "confirm_signup": N_("Confirm your email for %(outlet)s"),
    "magic_link": N_("Your sign-in link for %(outlet)s"),
    "welcome": N_("Welcome to %(outlet)s"),
    "gift_delivered": N_("You have been given a membership of %(outlet)s"),
    "tribute_notice": N_("A gift to %(outlet)s in the name of %(honoree)s"),
    "payment_receipt": N_("Your receipt from %(outlet)s"),
    "payment_failed": N_("Your payment to %(outlet)s did not go through"),
    "checkout_payment_failed": N_("Your bank payment to %(outlet)s did not go through"),
    "trial_ending": N_("Your free trial of %(plan_name)s ends on %(trial_end)s"),
    "trial_will_end": N_("Your free trial of %(plan_name)s ends on %(trial_end)s"),
    "renewal_notice": N_("Your %(plan_name)s renews on %(period_end)s"),
    "annual_reminder": N_("Yearly reminder: your %(plan_name)s at %(outlet)s renews automatically"),
    "price_change": N_("The price of your %(plan_name)s changes on %(effective_on)s"),
    "card_expiring": N_("The card paying for your %(plan_name)s expires soon"),
    "cancellation_confirmation": N_("Your %(plan_name)s is cancelled"),
    "year_end_statement": N_("Your %(year)s giving statement from %(outlet)s"),
}


class UnknownKind(ValueError):
    """A notice kind with no templates: a programming error, the row fails."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def strong(value: Any) -> Markup:
    """A value emphasised in HTML mail, outside the translated sentence around it."""
    return Markup("<strong>%s</strong>") % escape(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(money=money, day=day, number=number, strong=strong)
    return env


def base_vars(notice: Notice, settings: Settings) -> dict[str, Any]:
    """What the layout needs on every notice."""
    account_url = f"{settings.public_url.rstrip('/')}/account"
    return {
        "outlet": settings.outlet_name,
        "outlet_ein": settings.outlet_ein,
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
    # a reader's stored language first; mail to someone without a reader row (a gift's
    # recipient) may carry the language it was written in
    with in_language(reader_language(notice.reader_id) or context.get("mail_language")) as language:
        variables = base_vars(notice, settings) | LOADERS[notice.kind](context, settings)
        variables["language"] = language
        if "plan_name" in variables and variables["plan_name"] is None:  # a plan since deleted
            variables["plan_name"] = gettext("membership")
        elif "plan_name" in variables:
            variables["plan_name"] = named(variables["plan_name"])
        env = environment()
        text = env.get_template(f"{notice.kind}.txt").render(variables)
        html = env.get_template(f"{notice.kind}.html").render(variables)
        subject = gettext(SUBJECTS[notice.kind], **variables)
    return Rendered(subject=" ".join(subject.split()), text=text, html=html)
