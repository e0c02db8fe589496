"""Join and donate forms inside the newsroom's own pages (`/embed/join`, `/embed/donate`),
and `/embed.js`, the one script tag that puts them there (docs/embedding.md).

What a frame can and cannot do, and what follows from it:

- Who may frame: only the origins in EMBED_ALLOWED_ORIGINS (`@embeddable` sends
  `frame-ancestors <those origins>`; every other page, and these with none configured,
  `frame-ancestors 'none'`).
- Payment leaves the frame: Stripe Checkout refuses to run inside an iframe, so the
  embed layout sets `<base target="_top">`: the form's POST (and every link) opens in
  the reader's top window, which goes on to Checkout and comes back to our own
  `/welcome` (or the donate thank-you page), where the reader's account is. No script
  is needed for that, so the form works with JavaScript off.
- No session inside the frame: the newsroom's site and ours are different sites, so
  the browser neither sends nor stores our SameSite=Lax session cookie in the frame.
  The embedded form therefore never relies on a session: its CSRF token is a signed,
  short-lived value (`form_token`: HMAC over the form's kind with SECRET_KEY, two
  hours) instead of the session's token, checked here instead of the blueprint's
  session check. That is enough because the POST carries no ambient authority to
  abuse: it acts exactly as an anonymous visitor's form would (an email address, a
  choice, then Stripe Checkout where the reader pays with their own card); a forger
  could obtain the same token by loading the form and do no more than a visitor can.
  The token keeps out blind cross-site posts and stale replays, and a request whose
  Origin names a site other than ours is refused outright.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app, render_template, request, send_file
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from membership.errors import Forbidden
from membership.readers.pages import donate, join
from membership.readers.pages.blueprint import bp, checks_own_csrf, message
from membership.web.headers import embeddable

KINDS = ("join", "donate")
FORMS = {"join": "readers/_join_form.html", "donate": "readers/_donate_form.html"}
PAGES: dict[str, Any] = {"join": join, "donate": donate}
POSTS: dict[str, Callable[[], Any]] = {"join": join.join_post, "donate": donate.donate_post}
TOKEN_MAX_AGE = 2 * 3600
_SALT = "membership.embed-form"
SCRIPT = Path(__file__).resolve().parents[1] / "static" / "embed.js"
SCRIPT_MAX_AGE = 3600  # an hour: a fix reaches every newsroom page within it


def _serializer() -> URLSafeTimedSerializer:
    settings = current_app.config["SETTINGS"]
    keys = [settings.secret_key, *settings.secret_key_fallbacks]
    return URLSafeTimedSerializer(keys[::-1], salt=_SALT)  # signs with the newest (last), accepts all


def form_token(kind: str) -> str:
    """The CSRF value of an embedded form: which form, signed and dated; no session needed."""
    return _serializer().dumps({"form": kind})


def check_form_token(kind: str) -> None:
    """Refuse a POST whose token is missing, forged, expired or for another form, or whose
    Origin header names another site (the frame's document is ours, so a real submit
    carries our origin, or `null` where the page's referrer policy hides it)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin != request.host_url.rstrip("/"):
        raise Forbidden(_("This form was sent from another site. Open it on our own page and try again."))
    try:
        data = _serializer().loads(request.form.get("csrf_token", ""), max_age=TOKEN_MAX_AGE)
    except SignatureExpired as exc:
        raise Forbidden(_("This form was open for too long. Reload the page and try again.")) from exc
    except BadSignature as exc:
        raise Forbidden(_("This form could not be checked. Reload the page and try again.")) from exc
    if not isinstance(data, dict) or data.get("form") != kind:
        raise Forbidden(_("This form could not be checked. Reload the page and try again."))


def _render(kind: str) -> tuple[str, int]:
    """The page's own form partial with the page's own context (tiers, presets, the chosen
    currency), posting here and marked `embedded` (its switch links stay in the frame)."""
    settings = current_app.config["SETTINGS"]
    ctx = dict(PAGES[kind].form_context())
    ctx.update(action=f"/embed/{kind}", embedded=True)
    html = render_template("readers/embed.html", kind=kind, form_template=FORMS[kind], outlet=settings.outlet_name,
                           csrf=form_token(kind), signed_in=False,
                           allowed_origins=" ".join(settings.embed_allowed_origins), **ctx)
    return html, 200


@bp.get("/embed/join")
@embeddable
def embed_join() -> tuple[str, int]:
    return _render("join")


@bp.get("/embed/donate")
@embeddable
def embed_donate() -> tuple[str, int]:
    return _render("donate")


@bp.post("/embed/<kind>")
@checks_own_csrf
def embed_submit(kind: str) -> Any:
    """The embedded form's POST, in the reader's top window: the signed token instead of
    the session's, then exactly what the page's own form does (its POST view)."""
    if kind not in KINDS:
        return message(_("Page not found"), _("There is no such form."), 404, error=True)
    try:
        check_form_token(kind)
    except Forbidden as refused:
        return message(_("Please try again"), refused.detail, 403, error=True, link=f"/{kind}",
                       link_text=_("Open the form on our site"))
    return POSTS[kind]()


@bp.get("/embed.js")
def embed_script() -> Response:
    """The newsroom's one script tag: plain JavaScript, cached for an hour, revalidated by ETag."""
    response = send_file(SCRIPT, mimetype="text/javascript", max_age=SCRIPT_MAX_AGE, conditional=True, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
