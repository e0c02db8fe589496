"""Sign-up confirmation and sign-in by magic link, and what a reader sees when a link
no longer works.

A link in mail opens a page with a button (POST), never an action on GET: mail
scanners that prefetch links must not use up a single-use token. The GET only looks
(without using it up) whether the link still works, so an expired or used link says
so at once, with a form right there that mails a new one.
"""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from membership.api.limits import per_ip_and_email
from membership.api.validation import validate
from membership.db import utcnow
from membership.errors import InvalidInput
from membership.extensions import db
from membership.identity.consents import request_meta
from membership.identity.models import LoginToken, TokenPurpose
from membership.identity.sessions import start_session
from membership.identity.tokens import TokenInvalid, hash_token
from membership.readers import services
from membership.readers.pages.blueprint import bp, message, page
from membership.readers.schemas import SignInIn
from membership.unit_of_work import transactional

_SIGNIN_LIMITS = per_ip_and_email("SIGNIN")


def _usable(token: str, purpose: TokenPurpose) -> bool:
    """Whether the link would still work, without using it up."""
    return db.session.scalar(select(LoginToken.id).where(
        LoginToken.token_hash == hash_token(token), LoginToken.purpose == purpose, LoginToken.used_at.is_(None),
        LoginToken.expires_at > utcnow(), LoginToken.reader_id.is_not(None))) is not None


def _link_gone(purpose: TokenPurpose) -> tuple[str, int]:
    heading = _("This sign-in link no longer works") if purpose is TokenPurpose.SIGN_IN \
        else _("This confirmation link no longer works")
    return page("readers/link_expired.html", 410, heading=heading, purpose=purpose.value)


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> tuple[str, int]:
    if not _usable(token, TokenPurpose.CONFIRM):
        return _link_gone(TokenPurpose.CONFIRM)
    return page("readers/use_link.html", heading=_("Confirm your address"), button=_("Confirm"),
                text=_("One click and your sign-up is complete."))


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> Response | tuple[str, int]:
    try:
        return _confirm(token)
    except TokenInvalid:
        return _link_gone(TokenPurpose.CONFIRM)


@transactional
def _confirm(token: str) -> Response:
    reader = services.confirm(token, request_meta())
    start_session(reader)
    return redirect(url_for(".account", notice="confirmed"), 303)


@bp.get("/signin")
def signin_page() -> tuple[str, int]:
    return page("readers/signin.html")


@bp.post("/signin")
@_SIGNIN_LIMITS[0]
@_SIGNIN_LIMITS[1]
def signin_post() -> tuple[str, int]:
    try:
        return _request_link()
    except InvalidInput:
        return page("readers/signin.html", 422, email=request.form.get("email", "")[:254],
                    error=_("Enter your email address, such as name@example.org."))


@transactional
def _request_link() -> tuple[str, int]:
    data = validate(SignInIn, {"email": request.form.get("email", "")})
    services.request_sign_in(str(data.email))
    return message(_("Check your email"), _("If the address can receive mail, a sign-in link is on its way. "
                                            "It works once, for 15 minutes."), 202)


@bp.get("/signin/<token>")
def signin_link_page(token: str) -> tuple[str, int]:
    if not _usable(token, TokenPurpose.SIGN_IN):
        return _link_gone(TokenPurpose.SIGN_IN)
    return page("readers/use_link.html", heading=_("Sign in"), button=_("Sign me in"),
                text=_("This link works once, for 15 minutes."))


@bp.post("/signin/<token>")
def signin_link_post(token: str) -> Response | tuple[str, int]:
    try:
        return _sign_in(token)
    except TokenInvalid:
        return _link_gone(TokenPurpose.SIGN_IN)


@transactional
def _sign_in(token: str) -> Response:
    reader = services.sign_in(token)
    start_session(reader)
    return redirect(url_for(".account"), 303)
