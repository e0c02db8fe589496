"""The reader pages' blueprint and what every page shares: the layout's context, CSRF on
every POST, and errors as a short page in the reader's language.

Links in mail open a page with a button (POST): mail scanners that prefetch GET links
must not use up single-use tokens. Every POST carries the session's CSRF token
(checked before the view runs). Each page module (`home`, `join`, `donate`, `gift`,
`signin`, `account`, `embed`) adds its routes to this one blueprint, so URLs stay flat
(`/join`, `/account`) and the layout is the same everywhere.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from membership.errors import DomainError, Unauthorized
from membership.identity.models import Reader
from membership.identity.sessions import check_csrf, csrf_token, session_reader

bp = Blueprint("reader_pages", __name__, template_folder="../templates",
               static_folder="../static", static_url_path="/static/readers")


def page(template: str, status: int = 200, **ctx: Any) -> tuple[str, int]:
    """Render a reader page with what the layout needs (outlet, CSRF token, who is signed in)."""
    settings = current_app.config["SETTINGS"]
    ctx.setdefault("signed_in", session_reader() is not None)
    return render_template(template, outlet=settings.outlet_name, csrf=csrf_token(), **ctx), status


def message(heading: str, text: str, status: int = 200, error: bool = False, **ctx: Any) -> tuple[str, int]:
    return page("readers/message.html", status, heading=heading, text=text, error=error, **ctx)


def signed_in() -> Reader:
    """The signed-in reader, or a 401 page that leads to sign-in."""
    reader = session_reader()
    if reader is None:
        raise Unauthorized(_("Sign in first."))
    return reader


def checks_own_csrf(view: Any) -> Any:
    """For a POST view that checks its own CSRF token (the embedded forms, whose frame has
    no session: readers/pages/embed.py); every other POST is checked against the session."""
    view.checks_own_csrf = True
    return view


@bp.before_request
def _csrf() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method == "POST" and not getattr(view, "checks_own_csrf", False):
        check_csrf()


@bp.errorhandler(DomainError)
def _error(exc: DomainError) -> tuple[str, int]:
    return message(exc.title, exc.detail, exc.status, error=True, link="/signin", link_text=_("Get a new link"))
