"""Newsletters themselves (editors and admins): create one from the Newsletters page and
close or reopen it to new subscribers.

Creating goes through `campaigns.create_newsletter`, as the staff API's POST does, so a
slug is unique in one place; the form is checked here first with the API's own limits
(NewsletterIn, newsletters/schemas.py), so a bad field is the page again with its
message (400) and a slug already taken is a 409 with the form kept, never a 500 (two
editors racing for one slug meet the table's unique index, read as the same 409).
Marking active or inactive sends the wanted state, not "toggle", so a double submit does
the same thing twice. Both are one unit of work and audited by the staff audit hook,
like every console POST.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from membership.console import newsletters_data as data
from membership.console.auth import console_page
from membership.console.blueprint import bp
from membership.console.newsletters import READ, WRITE, helpers
from membership.errors import Conflict
from membership.newsletters import campaigns
from membership.unit_of_work import unit_of_work

MAX_NAME = 200
MAX_SLUG = 64
MAX_DESCRIPTION = 5000
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class NewNewsletter:
    """The create form as typed (shown again on an error) and its errors by field."""

    name: str = ""
    slug: str = ""
    description: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def slug_from(name: str) -> str:
    """'Weekend Reads — Café' -> 'weekend-reads-cafe': a suggestion when the slug is left empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_SLUG].rstrip("-")


def parse(form: Mapping[str, str]) -> NewNewsletter:
    found = NewNewsletter(name=" ".join(form.get("name", "").split()), slug=form.get("slug", "").strip().lower(),
                          description=form.get("description", "").replace("\r\n", "\n").strip())
    if not found.name:
        found.errors["name"] = "Give the newsletter a name, as readers will see it."
    elif len(found.name) > MAX_NAME:
        found.errors["name"] = f"Keep the name to {MAX_NAME} characters."
    if not found.slug and found.name:
        found.slug = slug_from(found.name)
    if not found.slug:
        found.errors["slug"] = "Give a slug: lower-case letters, digits and hyphens, such as weekend-reads."
    elif len(found.slug) > MAX_SLUG or not SLUG.match(found.slug):
        found.errors["slug"] = (f"A slug is up to {MAX_SLUG} lower-case letters, digits and hyphens, starting "
                                "with a letter or digit, such as weekend-reads.")
    if len(found.description) > MAX_DESCRIPTION:
        found.errors["description"] = f"Keep the description to {MAX_DESCRIPTION:,} characters."
    return found


def listing_page(form: NewNewsletter | None = None, status: int = 200) -> tuple[str, int]:
    """The Newsletters page; with the create form open (and its messages) when given."""
    return render_template("console/newsletters.html", listing=data.listing(), new_form=form or NewNewsletter(),
                           form_open=form is not None, can_write=True, **helpers()), status


@bp.post("/newsletters")
@console_page(READ, WRITE)
def create_newsletter() -> Response | tuple[str, int]:
    form = parse(request.form)
    if form.errors:
        return listing_page(form, 400)
    try:
        with unit_of_work():
            made = campaigns.create_newsletter(form.slug, form.name, form.description)
            name, made_id = made.name, made.id
    except (Conflict, IntegrityError):
        form.errors["slug"] = f"The slug “{form.slug}” is taken by another newsletter; choose another."
        return listing_page(form, 409)
    flash(f"Newsletter “{name}” created. Readers can subscribe to it from now on.")
    return redirect(url_for("console.newsletters") + f"#nl-{made_id}", 303)


@bp.post("/newsletters/<int:newsletter_id>/active")
@console_page(READ, WRITE)
def newsletter_active(newsletter_id: int) -> Response:
    wanted = request.form.get("active", "")
    if wanted not in ("yes", "no"):
        raise data.FormInvalid("Say whether the newsletter is active (yes or no): reload the page and try again.")
    with unit_of_work():
        newsletter = campaigns.set_newsletter_active(newsletter_id, wanted == "yes")
        name = newsletter.name
    flash(f"“{name}” is open to new subscribers again." if wanted == "yes" else
          f"“{name}” is inactive: no new subscribers; its subscribers and campaigns stay.")
    return redirect(url_for("console.newsletters") + f"#nl-{newsletter_id}", 303)
