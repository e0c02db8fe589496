"""Sign-up confirmation and sign-in by magic link.

A link in mail opens a page with a button (POST), never an action on GET: mail
scanners that prefetch links must not use up a single-use token."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from membership.api.limits import per_ip_and_email
from membership.api.validation import validate
from membership.identity.consents import request_meta
from membership.identity.sessions import start_session
from membership.readers import services
from membership.readers.pages.blueprint import bp, message, page
from membership.readers.schemas import SignInIn
from membership.unit_of_work import transactional

_SIGNIN_LIMITS = per_ip_and_email("SIGNIN")


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> tuple[str, int]:
    return page("readers/use_link.html", heading=_("Confirm your address"), button=_("Confirm"),
                text=_("One click and your sign-up is complete."))


@bp.post("/confirm/<token>")
@transactional
def confirm_post(token: str) -> Response:
    reader = services.confirm(token, request_meta())
    start_session(reader)
    return redirect(url_for(".account", notice="confirmed"), 303)


@bp.get("/signin")
def signin_page() -> tuple[str, int]:
    return page("readers/signin.html")


@bp.post("/signin")
@_SIGNIN_LIMITS[0]
@_SIGNIN_LIMITS[1]
@transactional
def signin_post() -> tuple[str, int]:
    data = validate(SignInIn, {"email": request.form.get("email", "")})
    services.request_sign_in(str(data.email))
    return message(_("Check your email"), _("If the address can receive mail, a sign-in link is on its way."), 202)


@bp.get("/signin/<token>")
def signin_link_page(token: str) -> tuple[str, int]:
    return page("readers/use_link.html", heading=_("Sign in"), button=_("Sign me in"),
                text=_("This link works once, for 15 minutes."))


@bp.post("/signin/<token>")
@transactional
def signin_link_post(token: str) -> Response:
    reader = services.sign_in(token)
    start_session(reader)
    return redirect(url_for(".account"), 303)
