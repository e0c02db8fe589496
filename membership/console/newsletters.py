"""Newsletters (editors and admins): the newsletters and their campaigns, composing a
campaign in Markdown with a live preview and its recipient count, a test send, and a
campaign's page where it is scheduled, paused, resumed or cancelled and its progress
and results are watched.

Every move is the newsletters package's own service (campaigns.py's state machine,
dispatch.py to start workers after the commit, trial.py for the test, outcomes.py for
the figures), as the staff API's are. Each POST is one unit of work and audited by the
staff audit hook (membership/staff/audit.py). A refused move (the campaign moved on in
the meantime: 409; a bad form: 400) shows the page again with the message and changes
nothing. The two JSON endpoints the page's script fetches (preview, count) and the
progress one answer the same figures the server-rendered page shows without script.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from membership.console import newsletters_data as data
from membership.console.acting import act
from membership.console.auth import console_page, staff
from membership.console.blueprint import bp
from membership.errors import Conflict
from membership.extensions import db
from membership.ledger.journal import outlet_zone
from membership.newsletters import campaigns, dispatch
from membership.newsletters.markdown import to_html
from membership.newsletters.models import Campaign, CampaignStatus, Newsletter
from membership.newsletters.outcomes import progress
from membership.newsletters.sanitise import sanitise_html
from membership.newsletters.trial import send_trial
from membership.staff.roles import allows
from membership.unit_of_work import unit_of_work

READ, WRITE = "newsletters:read", "newsletters:write"
LIVE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)


def helpers() -> dict[str, Any]:
    return {"local": data.local, "segment_text": data.segment_text, "segments": data.SEGMENTS,
            "local_zone": outlet_zone().key}


def _safe_body(campaign: Campaign) -> str:
    """The body as the page shows it. Every body is stored sanitised (campaigns.py, for
    the API's and the console's alike), so the page no longer needs to recognise the
    console's own Markdown output to trust it; the same allow-list runs once more here
    for campaigns stored before bodies were sanitised (it changes nothing on clean HTML)."""
    return sanitise_html(campaign.body_html)


@bp.get("/newsletters")
@console_page(READ)
def newsletters() -> str:
    return render_template("console/newsletters.html", listing=data.listing(), new_form=None, form_open=False,
                           can_write=allows(staff().role, WRITE), **helpers())


# --- compose ------------------------------------------------------------------------------

def _compose_page(form: data.Compose, campaign: Campaign | None = None, status: int = 200,
                  preview: bool = False) -> tuple[str, int]:
    """The form; with the preview and the count when asked (and the form is usable)."""
    recipients = None
    if preview and not data.SEGMENT_FIELDS & form.errors.keys():
        assert form.newsletter_id is not None
        recipients = data.count(form.newsletter_id, *form.segment_args)
    return render_template("console/campaign_compose.html", form=form, campaign=campaign,
                           newsletters=data.newsletters(), tiers=data.tiers(),
                           preview_html=to_html(form.body) if form.body.strip() else "",
                           recipients=recipients, **helpers()), status


def _preview_only(form: data.Compose) -> data.Compose:
    """A preview is not a save: an empty subject is no error yet, a segment the count
    cannot read is."""
    form.errors = {k: v for k, v in form.errors.items() if k in data.SEGMENT_FIELDS}
    return form


@bp.get("/newsletters/campaigns/new")
@console_page(READ, WRITE)
def compose() -> tuple[str, int]:
    form = data.Compose(newsletter_id=data.as_id(request.args.get("newsletter")))
    if form.newsletter_id is None and (first := next(iter(data.newsletters()), None)) is not None:
        form.newsletter_id = first.id
    return _compose_page(form)


@bp.post("/newsletters/campaigns/new")
@console_page(READ, WRITE)
def compose_post() -> Response | tuple[str, int]:
    form = data.parse_compose(request.form)
    if request.form.get("action") != "save":
        return _compose_page(_preview_only(form), preview=True)
    if form.errors:
        return _compose_page(form, status=400, preview=True)
    assert form.newsletter_id is not None
    with unit_of_work():
        campaign = campaigns.create_campaign(form.newsletter_id, form.subject, to_html(form.body), form.body,
                                             *form.segment_args)
    flash("Draft saved. Send yourself a test, then schedule it.")
    return redirect(url_for("console.campaign", campaign_id=campaign.id), 303)


def _draft(campaign_id: int) -> Campaign:
    campaign = campaigns.get_campaign(campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(f"This campaign is {campaign.status.value}: only a draft can be edited. "
                       "Take a scheduled campaign back to draft first.")
    return campaign


@bp.get("/newsletters/campaigns/<int:campaign_id>/edit")
@console_page(READ, WRITE)
def edit(campaign_id: int) -> tuple[str, int]:
    campaign = _draft(campaign_id)
    return _compose_page(data.from_campaign(campaign), campaign, preview=True)


@bp.post("/newsletters/campaigns/<int:campaign_id>/edit")
@console_page(READ, WRITE)
def edit_post(campaign_id: int) -> Response | tuple[str, int]:
    campaign = _draft(campaign_id)
    form = data.parse_compose(request.form)
    form.newsletter_id = campaign.newsletter_id  # a campaign keeps its newsletter
    form.errors.pop("newsletter_id", None)
    if request.form.get("action") != "save":
        return _compose_page(_preview_only(form), campaign, preview=True)
    if form.errors:
        return _compose_page(form, campaign, status=400, preview=True)
    with unit_of_work():
        campaigns.update_draft(campaign_id, form.subject, to_html(form.body), form.body, *form.segment_args)
    flash("Draft saved.")
    return redirect(url_for("console.campaign", campaign_id=campaign_id), 303)


@bp.post("/newsletters/preview")
@console_page(READ, WRITE)
def preview_json() -> Response:
    """The Markdown body as the sanitised HTML the campaign will carry (no raw HTML)."""
    body = request.form.get("body", "")[:data.MAX_BODY]
    return jsonify(html=to_html(body) if body.strip() else "")


@bp.post("/newsletters/count")
@console_page(READ, WRITE)
def count_json() -> tuple[Response, int]:
    form = data.parse_segment(request.form, data.Compose())
    if form.errors:
        return jsonify(error=" ".join(form.errors.values())), 400
    assert form.newsletter_id is not None
    return jsonify(count=data.count(form.newsletter_id, *form.segment_args), segment=data.segment_text(form)), 200


# --- one campaign ---------------------------------------------------------------------------

def _campaign_page(campaign_id: int, error: str | None = None, status: int = 200,
                   form: str = "") -> tuple[str, int]:
    campaign = campaigns.get_campaign(campaign_id)
    newsletter = db.session.get(Newsletter, campaign.newsletter_id)
    figures = progress(campaign)
    recipients = data.recipients_before_send(campaign, figures)
    return render_template("console/campaign.html", c=campaign, newsletter=newsletter, figures=figures,
                           recipients=recipients, body_html=_safe_body(campaign), error=error, error_form=form, live=campaign.status in LIVE,
                           due=campaigns.is_due(campaign),
                           test_to=request.form.get("to", "") if error else staff().email,
                           sched=request.form if error else {}, **helpers()), status


@bp.get("/newsletters/campaigns/<int:campaign_id>")
@console_page(READ)
def campaign(campaign_id: int) -> tuple[str, int]:
    return _campaign_page(campaign_id)


@bp.get("/newsletters/campaigns/<int:campaign_id>/progress")
@console_page(READ)
def progress_json(campaign_id: int) -> Response:
    found = campaigns.get_campaign(campaign_id)
    return jsonify(status=found.status.value, started_at=data.local(found.started_at),
                   finished_at=data.local(found.finished_at), **progress(found).as_dict())


def _act(campaign_id: int, form: str, action: Callable[[], str]) -> Response | tuple[str, int]:
    return act(action, lambda detail, status: _campaign_page(campaign_id, error=detail, status=status, form=form),
               url_for("console.campaign", campaign_id=campaign_id))


@bp.post("/newsletters/campaigns/<int:campaign_id>/test")
@console_page(READ, WRITE)
def send_test(campaign_id: int) -> Response | tuple[str, int]:
    def run() -> str:
        send_trial(campaign_id, request.form.get("to", ""))
        return f"Test sent to {request.form.get('to', '').strip()}. No reader received anything."

    return _act(campaign_id, "test", run)


@bp.post("/newsletters/campaigns/<int:campaign_id>/schedule")
@console_page(READ, WRITE)
def schedule(campaign_id: int) -> Response | tuple[str, int]:
    def run() -> str:
        found = dispatch.schedule(campaign_id, data.schedule_time(request.form))
        if campaigns.is_due(found):
            return "Sending has started; the figures below follow it."
        return f"Scheduled for {data.local(found.scheduled_at)}."

    return _act(campaign_id, "schedule", run)


def _move(name: str, move: Callable[[int], Campaign], said: str) -> None:
    """Register one state move without a form of its own (a button): 303 back, or the
    campaign page with a 409 when the campaign is not in a state the move starts from."""

    def view(campaign_id: int) -> Response | tuple[str, int]:
        def run() -> str:
            move(campaign_id)
            return said

        return _act(campaign_id, "state", run)

    view.__name__ = f"campaign_{name}"
    bp.post(f"/newsletters/campaigns/<int:campaign_id>/{name}")(console_page(READ, WRITE)(view))


for _name, _fn, _said in (
    ("unschedule", campaigns.unschedule, "Back to draft: nothing will be sent until it is scheduled again."),
    ("pause", campaigns.pause, "Paused. Messages in flight finish; the rest wait until you resume."),
    ("resume", dispatch.resume, "Resumed: sending again."),
):
    _move(_name, _fn, _said)


# --- cancel, after a confirmation ------------------------------------------------------------

CANCELLABLE = (CampaignStatus.DRAFT, *LIVE)


def _cancel_page(campaign_id: int) -> tuple[str, int]:
    """What cancelling would stop, in numbers: the messages still waiting (or, before the
    send started, the readers the segment holds today) and what was sent already."""
    campaign = campaigns.get_campaign(campaign_id)
    if campaign.status not in CANCELLABLE:
        raise Conflict(f"This campaign is {campaign.status.value}: there is nothing left to cancel.")
    figures = progress(campaign)
    recipients = data.recipients_before_send(campaign, figures)
    return render_template("console/campaign_cancel.html", c=campaign, figures=figures, recipients=recipients,
                           newsletter=db.session.get(Newsletter, campaign.newsletter_id), **helpers()), 200


@bp.get("/newsletters/campaigns/<int:campaign_id>/cancel")
@console_page(READ, WRITE)
def campaign_cancel_confirm(campaign_id: int) -> tuple[str, int]:
    return _cancel_page(campaign_id)


@bp.post("/newsletters/campaigns/<int:campaign_id>/cancel")
@console_page(READ, WRITE)
def campaign_cancel(campaign_id: int) -> Response | tuple[str, int]:
    """Cancelling cannot be undone, so only the confirmation page's own form (confirm=yes)
    cancels; any other POST here is shown that page and changes nothing."""
    if request.form.get("confirm") != "yes":
        return _cancel_page(campaign_id)

    def run() -> str:
        campaigns.cancel(campaign_id)
        return "Cancelled. Messages not yet sent will not be sent."

    return _act(campaign_id, "state", run)
