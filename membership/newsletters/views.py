"""HTTP for newsletters: the staff JSON API, one-click unsubscribe, mail-event webhook.

`/u/<token>`: GET shows a page and changes nothing (mail scanners follow links);
POST (the RFC 8058 one-click body `List-Unsubscribe=One-Click`, or the page's form)
unsubscribes with no login and no redirect, answering 200.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, render_template, request
from pydantic import BaseModel, ValidationError

from membership.errors import InvalidInput, NotFound, Unauthorized
from membership.extensions import db
from membership.newsletters import campaigns, services
from membership.newsletters.deliveries import status_counts
from membership.newsletters.models import Campaign, Newsletter
from membership.newsletters.schemas import CampaignIn, NewsletterIn, ScheduleIn
from membership.newsletters.unsubscribe import read_token
from membership.queue import enqueue_after_commit
from membership.staff.auth import staff_required

bp = Blueprint("newsletters", __name__, template_folder="templates")
F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
START_TASK = "workers.tasks.newsletters.start_campaign"
SEND_TASK = "workers.tasks.newsletters.send_chunk"


def _body(model: type[M]) -> M:
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise InvalidInput("the body does not validate", errors=errors) from None


def _campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id, "newsletter_id": campaign.newsletter_id, "subject": campaign.subject,
        "segment": campaign.segment.value, "segment_plan_id": campaign.segment_plan_id,
        "status": campaign.status.value,
        "scheduled_at": campaign.scheduled_at.isoformat() if campaign.scheduled_at else None,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
        "deliveries": status_counts(campaign.id),
    }


# --- staff API ---------------------------------------------------------------------------

@bp.get("/api/staff/newsletters")
@staff_required
def list_newsletters() -> Response:
    rows = db.session.scalars(db.select(Newsletter).order_by(Newsletter.id)).all()
    return jsonify(data=[{"id": n.id, "slug": n.slug, "name": n.name, "active": n.active} for n in rows])


@bp.post("/api/staff/newsletters")
@staff_required
def create_newsletter() -> tuple[Response, int]:
    body = _body(NewsletterIn)
    newsletter = campaigns.create_newsletter(body.slug, body.name, body.description)
    db.session.commit()
    return jsonify(id=newsletter.id, slug=newsletter.slug, name=newsletter.name), 201


@bp.post("/api/staff/campaigns")
@staff_required
def create_campaign() -> tuple[Response, int]:
    body = _body(CampaignIn)
    campaign = campaigns.create_campaign(body.newsletter_id, body.subject, body.body_html, body.body_text,
                                         body.segment, body.segment_plan_id)
    db.session.commit()
    return jsonify(_campaign_json(campaign)), 201


@bp.get("/api/staff/campaigns/<int:campaign_id>")
@staff_required
def campaign_status(campaign_id: int) -> Response:
    return jsonify(_campaign_json(campaigns.get_campaign(campaign_id)))


@bp.post("/api/staff/campaigns/<int:campaign_id>/schedule")
@staff_required
def schedule_campaign(campaign_id: int) -> Response:
    body = _body(ScheduleIn)
    campaign = campaigns.schedule(campaign_id, body.scheduled_at)
    if campaign.scheduled_at is not None and campaigns.is_due(campaign):
        from flask import current_app

        enqueue_after_commit(current_app.extensions["celery"].signature(START_TASK), campaign_id)
    db.session.commit()
    return jsonify(_campaign_json(campaign))


def _simple(action: Callable[[int], Campaign]) -> Callable[[int], Response]:
    def view(campaign_id: int) -> Response:
        campaign = action(campaign_id)
        db.session.commit()
        return jsonify(_campaign_json(campaign))

    return view


def _resume(campaign_id: int) -> Campaign:
    """Resuming restarts the senders at once (the sweeper would, but only within a minute)."""
    from flask import current_app

    from membership.newsletters.tuning import int_knob

    campaign = campaigns.resume(campaign_id)
    task = current_app.extensions["celery"].signature(SEND_TASK)
    for _ in range(int_knob("NEWSLETTER_SENDERS")):
        enqueue_after_commit(task, campaign_id)
    return campaign


for _name, _action in (("unschedule", campaigns.unschedule), ("pause", campaigns.pause),
                       ("resume", _resume), ("cancel", campaigns.cancel)):
    bp.add_url_rule(f"/api/staff/campaigns/<int:campaign_id>/{_name}", f"{_name}_campaign",
                    staff_required(_simple(_action)), methods=["POST"])


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
def unsubscribe_post(token: str) -> Any:
    reader_id, newsletter = _token_target(token)  # invalid -> 404 problem+json
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    services.unsubscribe(reader_id, newsletter.id, source="one-click" if one_click else "unsubscribe-page")
    db.session.commit()
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
    db.session.commit()
    return jsonify(counts)
