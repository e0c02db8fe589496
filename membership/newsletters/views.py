"""HTTP for newsletters that is not the staff JSON API: one-click unsubscribe and the
mail-event webhook (neither speaks the JSON-API contract: a form post and a provider's
payload). The staff API is in staff_views.py, on the operation registry.

`/u/<token>`: GET shows a page and changes nothing (mail scanners follow links);
POST (the RFC 8058 one-click body `List-Unsubscribe=One-Click`, or the page's form)
unsubscribes with no login and no redirect, answering 200.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from membership.errors import InvalidInput, NotFound, Unauthorized
from membership.extensions import db
from membership.newsletters import services
from membership.newsletters.models import Newsletter
from membership.newsletters.unsubscribe import read_token
from membership.unit_of_work import transactional

bp = Blueprint("newsletters", __name__, template_folder="templates")


# --- one-click unsubscribe ---------------------------------------------------------------

def _token_target(token: str) -> tuple[int, Newsletter]:
    pair = read_token(token)
    newsletter = db.session.get(Newsletter, pair[1]) if pair else None
    if pair is None or newsletter is None:
        raise NotFound("this unsubscribe link is not valid")
    return pair[0], newsletter


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int, dict[str, str]]:
    from flask import current_app

    settings = current_app.config["SETTINGS"]
    body = render_template(template, outlet_name=settings.outlet_name,
                           postal_address=settings.outlet_postal_address, **context)
    return body, status, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                          "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@bp.get("/u/<token>")
def unsubscribe_page(token: str) -> tuple[str, int, dict[str, str]]:
    """Changes nothing: shows what the link is for and a button that POSTs."""
    try:
        _, newsletter = _token_target(token)
    except NotFound:
        return _page("newsletters/unsubscribe_invalid.html", 404)
    return _page("newsletters/unsubscribe.html", newsletter_name=newsletter.name, token=token)


@bp.post("/u/<token>")
@transactional
def unsubscribe_post(token: str) -> Any:
    reader_id, newsletter = _token_target(token)  # invalid -> 404 problem+json
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    services.unsubscribe(reader_id, newsletter.id, source="one-click" if one_click else "unsubscribe-page")
    if one_click:
        return jsonify(status="unsubscribed", newsletter=newsletter.slug)
    return _page("newsletters/unsubscribed.html", newsletter_name=newsletter.name)


# --- provider webhook: bounces and complaints ---------------------------------------------

SECRET_HEADER = "X-Mail-Events-Secret"


def _mail_events_secret() -> str | None:
    import os

    from flask import current_app

    extra = current_app.config["SETTINGS"].extra
    return str(extra.get("MAIL_EVENTS_SECRET") or os.environ.get("MAIL_EVENTS_SECRET") or "") or None


@bp.post("/webhooks/mail-events")
@transactional
def mail_events() -> Response:
    """Authenticated by a shared secret header (MAIL_EVENTS_SECRET); unset = endpoint off."""
    import hmac

    from membership.errors import ServiceUnavailable
    from membership.newsletters.bounces import parse_webhook, record_events

    secret = _mail_events_secret()
    if secret is None:
        raise ServiceUnavailable("mail events are not configured (set MAIL_EVENTS_SECRET)")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized(f"missing or wrong {SECRET_HEADER} header")
    payload = request.get_json(silent=True)
    if payload is None:
        raise InvalidInput("the body must be JSON")
    counts = record_events(parse_webhook(payload), source="webhook")
    return jsonify(counts)
