"""Staff API for newsletters and campaigns, on the operation registry (in
/api/openapi.json, strict validation, fuzzed by the contract test).

Reading needs `newsletters:read`, every change (create, schedule, pause, resume,
cancel) `newsletters:write`: both held by editors and admins only
(membership/staff/roles.py). A finance token can no longer send to every reader.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from sqlalchemy import select

from membership.api import operation
from membership.billing.models import Plan
from membership.errors import NotFound
from membership.extensions import db
from membership.newsletters import campaigns, dispatch
from membership.newsletters.deliveries import status_counts
from membership.newsletters.models import Campaign, Newsletter, Segment
from membership.newsletters.schemas import (
    CampaignIn,
    CampaignOut,
    DeliveryCountsOut,
    NewsletterCreatedOut,
    NewsletterIn,
    NewsletterOut,
    NewslettersOut,
    ScheduleIn,
)
from membership.staff.auth import require_permission

bp = Blueprint("newsletters_staff_api", __name__, url_prefix="/api/staff")
TAG = "staff"


def _campaign_out(campaign: Campaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id, newsletter_id=campaign.newsletter_id, subject=campaign.subject, segment=campaign.segment,
        segment_plan_id=campaign.segment_plan_id, status=campaign.status, scheduled_at=campaign.scheduled_at,
        started_at=campaign.started_at, finished_at=campaign.finished_at,
        deliveries=DeliveryCountsOut.model_validate(status_counts(campaign.id)),
    )


def _flushed(campaign: Campaign) -> CampaignOut:
    db.session.flush()  # the operation commits once it returns
    return _campaign_out(campaign)


@operation(bp, "/newsletters", "GET", summary="Newsletters", tag=TAG, response=NewslettersOut,
           security=require_permission("newsletters:read"))
def list_newsletters() -> NewslettersOut:
    """All of them, inactive ones too, by id (a newsroom has a handful)."""
    rows = db.session.scalars(select(Newsletter).order_by(Newsletter.id)).all()
    return NewslettersOut(data=[NewsletterOut.model_validate(n, from_attributes=True) for n in rows])


@operation(bp, "/newsletters", "POST", summary="Create a newsletter", tag=TAG, body=NewsletterIn,
           response=NewsletterCreatedOut, status=201, security=require_permission("newsletters:write"), errors=(409,))
def create_newsletter(body: NewsletterIn) -> NewsletterCreatedOut:
    """The slug is its public name in unsubscribe answers, so a taken slug is a 409."""
    newsletter = campaigns.create_newsletter(body.slug, body.name, body.description)
    db.session.flush()  # the operation commits once it returns
    return NewsletterCreatedOut.model_validate(newsletter, from_attributes=True)


@operation(bp, "/campaigns", "POST", summary="Create a draft campaign", tag=TAG, body=CampaignIn,
           response=CampaignOut, status=201, security=require_permission("newsletters:write"), errors=(404,))
def create_campaign(body: CampaignIn) -> CampaignOut:
    """A draft sends nothing until scheduled. An unknown newsletter or tier plan is a 404
    (checked here: a dangling plan id would otherwise fail the foreign key, a 500).
    `body_html` is stored sanitised: headings, paragraphs, lists, emphasis, quotes, code,
    tables, links (http, https, mailto) and https images are kept; scripts, event
    handlers, forms, iframes, inline style and other URLs are removed. A body with
    nothing left once cleaned is a 422. `body_text` is stored as sent."""
    if body.segment == Segment.TIER and body.segment_plan_id is not None \
            and db.session.get(Plan, body.segment_plan_id) is None:
        raise NotFound(f"plan {body.segment_plan_id} not found")
    campaign = campaigns.create_campaign(body.newsletter_id, body.subject, body.body_html, body.body_text,
                                         body.segment, body.segment_plan_id, body.segment_label)
    return _flushed(campaign)


@operation(bp, "/campaigns/<int:campaign_id>", "GET", summary="A campaign and its delivery counts", tag=TAG,
           response=CampaignOut, security=require_permission("newsletters:read"))
def campaign_status(campaign_id: int) -> CampaignOut:
    """Counts come from the delivery rows, so polling this shows a send's progress."""
    return _campaign_out(campaigns.get_campaign(campaign_id))


@operation(bp, "/campaigns/<int:campaign_id>/schedule", "POST", summary="Schedule a campaign (now by default)",
           tag=TAG, body=ScheduleIn, response=CampaignOut, security=require_permission("newsletters:write"),
           errors=(409,))
def schedule_campaign(campaign_id: int, body: ScheduleIn) -> CampaignOut:
    """Due now: the start task is enqueued after the commit (a rollback sends nothing);
    later: beat's start_due_campaigns starts it. Send `{}` to schedule for now."""
    return _flushed(dispatch.schedule(campaign_id, body.scheduled_at))


def _action(name: str, action: Callable[[int], Campaign], summary: str, why: str) -> None:
    """Register one state-machine move: no body, 409 when the campaign is in a state
    the move does not start from (the conditional UPDATE lost)."""

    def view(campaign_id: int) -> CampaignOut:
        return _flushed(action(campaign_id))

    view.__name__ = f"{name}_campaign"
    view.__doc__ = why
    operation(bp, f"/campaigns/<int:campaign_id>/{name}", "POST", summary=summary, tag=TAG,
              response=CampaignOut, security=require_permission("newsletters:write"), errors=(409,))(view)


for _name, _move, _summary, _why in (
    ("unschedule", campaigns.unschedule, "Take a scheduled campaign back to draft",
     "Only before it starts: a sending campaign is paused or cancelled instead."),
    ("pause", campaigns.pause, "Pause a sending campaign",
     "Senders see it at their next claim and hand their unsent rows back; nothing is lost."),
    ("resume", dispatch.resume, "Resume a paused campaign",
     "Senders are restarted at once (the sweeper would, but only within a minute)."),
    ("cancel", campaigns.cancel, "Cancel a campaign for good",
     "Rows not yet sent are marked skipped and kept as the record of who did not get it."),
):
    _action(_name, _move, _summary, _why)
