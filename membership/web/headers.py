"""Security headers on every response, decided in one place.

- Content-Security-Policy: scripts and styles only from this origin or carrying the
  request's nonce (`csp_nonce()` in templates), no plugins, no <base> rewriting.
- frame-ancestors 'none' (and X-Frame-Options: DENY for old browsers), except views
  marked `@embeddable`, which the origins in EMBED_ALLOWED_ORIGINS may frame (and no one
  else: with none configured, nobody may).
- X-Content-Type-Options: nosniff everywhere.
- Referrer-Policy: no-referrer on pages whose URL carries a secret (`<token>` in the
  route), so the link never leaks to a third party through Referer; elsewhere
  strict-origin-when-cross-origin. Those pages are also never cached (no-store).
- Strict-Transport-Security in production, where PUBLIC_URL is https.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request

from membership.config import Settings

HSTS = "max-age=63072000; includeSubDomains"
_EMBEDDABLE = "embeddable"
_NONCE = "membership.csp_nonce"
View = TypeVar("View", bound=Callable[..., Any])


def embeddable(view: View) -> View:
    """Let the origins in EMBED_ALLOWED_ORIGINS frame this view."""
    setattr(view, _EMBEDDABLE, True)
    return view


def csp_nonce() -> str:
    """This request's nonce for inline <script>/<style> elements (minted on first use).
    Kept in the WSGI environ, which is per request; `g` can outlive one."""
    nonce = request.environ.get(_NONCE)
    if nonce is None:
        nonce = request.environ[_NONCE] = secrets.token_urlsafe(16)
    return str(nonce)


def _is_embeddable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _EMBEDDABLE, False))


def _carries_secret() -> bool:
    rule = request.url_rule
    return rule is not None and "<token>" in rule.rule


def content_security_policy(nonce: str, frame_ancestors: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        f"frame-ancestors {frame_ancestors}",
    ))


def _apply(response: Response) -> Response:
    settings: Settings = current_app.config["SETTINGS"]
    headers = response.headers
    embeddable_here = _is_embeddable() and bool(settings.embed_allowed_origins)
    ancestors = " ".join(settings.embed_allowed_origins) if embeddable_here else "'none'"
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(), ancestors))
    if not embeddable_here:
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if _carries_secret():
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if settings.is_production:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def install_security_headers(app: Flask) -> None:
    app.after_request(_apply)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
