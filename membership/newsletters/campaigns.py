"""The campaign state machine, in one place.

    draft -> scheduled -> sending -> sent
               |  ^         |  ^
               v  |         v  |
             (draft)      paused
    draft | scheduled | sending | paused -> cancelled

Transitions are conditional UPDATEs (`... WHERE status IN (allowed)`), so two staff
clicks or a click racing the sender cannot both win; the loser gets a 409.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from membership.db import utcnow
from membership.errors import Conflict, InvalidInput, NotFound
from membership.extensions import db
from membership.newsletters.models import Campaign, CampaignStatus, Delivery, DeliveryStatus, Newsletter, Segment
from membership.newsletters.sanitise import sanitise_html

S = CampaignStatus
ALLOWED: dict[CampaignStatus, tuple[CampaignStatus, ...]] = {
    S.SCHEDULED: (S.DRAFT, S.SCHEDULED),
    S.DRAFT: (S.SCHEDULED,),
    S.SENDING: (S.SCHEDULED,),
    S.PAUSED: (S.SENDING,),
    S.CANCELLED: (S.DRAFT, S.SCHEDULED, S.SENDING, S.PAUSED),
    S.SENT: (S.SENDING,),
}
RESUME_FROM = (S.PAUSED,)
EDITABLE = (S.DRAFT,)


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def create_campaign(
    newsletter_id: int, subject: str, body_html: str, body_text: str = "",
    segment: Segment = Segment.ALL_CONFIRMED, segment_plan_id: int | None = None,
    segment_label: str | None = None,
) -> Campaign:
    """A draft. Its HTML is stored sanitised (see `_stored_html`), whoever sent it."""
    if db.session.get(Newsletter, newsletter_id) is None:
        raise NotFound(f"newsletter {newsletter_id} not found")
    campaign = Campaign(newsletter_id=newsletter_id, subject=subject, body_html=_stored_html(body_html),
                        body_text=body_text,
                        **_segment_values(segment, segment_plan_id, segment_label))
    db.session.add(campaign)
    db.session.flush()
    return campaign


def _stored_html(body_html: str) -> str:
    """The body as it may be stored: through the allow-list (membership/newsletters/
    sanitise.py), since readers' mail clients and the console's preview both render it.
    Creating and editing a draft (API and console alike) come through here and nowhere
    else writes a body. Nothing left once cleaned (only a script, say) is refused."""
    clean = sanitise_html(body_html)
    if not clean.strip():
        raise InvalidInput("body_html has no content left once unsafe markup is removed")
    return clean


def _segment_values(segment: Segment, plan_id: int | None, label: str | None) -> dict[str, object]:
    """The segment columns, each set only where its segment uses it."""
    if segment == Segment.TIER and plan_id is None:
        raise InvalidInput("the tier segment needs segment_plan_id")
    if segment == Segment.LABEL and not label:
        raise InvalidInput("the label segment needs segment_label")
    return {"segment": segment, "segment_plan_id": plan_id if segment == Segment.TIER else None,
            "segment_label": label if segment == Segment.LABEL else None}


def update_draft(
    campaign_id: int, subject: str, body_html: str, body_text: str = "",
    segment: Segment = Segment.ALL_CONFIRMED, segment_plan_id: int | None = None,
    segment_label: str | None = None,
) -> Campaign:
    """Rewrite a draft; a campaign that left draft (scheduled, sending...) is a 409, in the
    same conditional UPDATE as every other move, so an edit never races a schedule."""
    values = _segment_values(segment, segment_plan_id, segment_label)
    return transition(campaign_id, S.DRAFT, from_=EDITABLE, subject=subject, body_html=_stored_html(body_html),
                      body_text=body_text, **values)


def transition(campaign_id: int, to: CampaignStatus, from_: tuple[CampaignStatus, ...] | None = None,
               **values: object) -> Campaign:
    """Move a campaign if (and only if) it is in an allowed state; else Conflict."""
    allowed = from_ or ALLOWED[to]
    result = db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(allowed))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    campaign = get_campaign(campaign_id)
    db.session.refresh(campaign)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"campaign {campaign_id} is {campaign.status.value}; cannot move to {to.value}",
                       status_now=campaign.status.value)
    return campaign


def schedule(campaign_id: int, at: datetime | None = None) -> Campaign:
    """Schedule for `at` (now when omitted); the beat task or the caller starts it when due."""
    when = at or utcnow()
    if when.tzinfo is None:
        raise InvalidInput("scheduled_at needs a timezone offset")
    return transition(campaign_id, S.SCHEDULED, scheduled_at=when)


def unschedule(campaign_id: int) -> Campaign:
    return transition(campaign_id, S.DRAFT, scheduled_at=None)


def mark_sending(campaign_id: int) -> Campaign:
    return transition(campaign_id, S.SENDING, started_at=utcnow())


def pause(campaign_id: int) -> Campaign:
    """Senders see it at their next claim and hand their unsent rows back."""
    return transition(campaign_id, S.PAUSED)


def resume(campaign_id: int) -> Campaign:
    return transition(campaign_id, S.SENDING, from_=RESUME_FROM)


def cancel(campaign_id: int) -> Campaign:
    """Stop for good: rows not yet sent are marked skipped (kept as a record)."""
    from membership.newsletters.deliveries import skip_pending_of_cancelled

    campaign = transition(campaign_id, S.CANCELLED, finished_at=utcnow())
    skip_pending_of_cancelled(campaign_id)
    return campaign


def finish_if_done(campaign_id: int) -> bool:
    """sending -> sent once no row is pending or in flight; True when it moved."""
    unfinished = (
        db.session.query(Delivery.id)
        .filter(Delivery.campaign_id == campaign_id,
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)))
        .exists()
    )
    result = db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == S.SENDING, ~unfinished)
        .values(status=S.SENT, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def start_sending(campaign_id: int) -> int | None:
    """scheduled -> sending and every delivery row in one transaction (flushes only).

    Returns the number of rows created, or None when the campaign was not scheduled
    (already started, paused, cancelled: a repeated task does nothing).
    """
    from membership.newsletters.deliveries import create_deliveries

    campaign = db.session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.status != S.SCHEDULED:
        return None
    mark_sending(campaign_id)
    return create_deliveries(campaign)


def due_campaign_ids(now: datetime | None = None) -> list[int]:
    from sqlalchemy import select

    return list(
        db.session.scalars(
            select(Campaign.id).where(Campaign.status == S.SCHEDULED, Campaign.scheduled_at <= (now or utcnow()))
        )
    )


def campaigns_needing_a_sender() -> list[int]:
    """Sending campaigns with due pending rows and nobody holding a row: their tasks were
    lost (broker restart, killed worker) and the sweeper starts a sender again."""
    from sqlalchemy import exists, or_, select

    due = exists().where(
        Delivery.campaign_id == Campaign.id, Delivery.status == DeliveryStatus.PENDING,
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= utcnow()),
    )
    busy = exists().where(Delivery.campaign_id == Campaign.id, Delivery.status == DeliveryStatus.SENDING)
    return list(db.session.scalars(select(Campaign.id).where(Campaign.status == S.SENDING, due, ~busy)))


def is_due(campaign: Campaign) -> bool:
    return campaign.status == S.SCHEDULED and campaign.scheduled_at is not None and campaign.scheduled_at <= utcnow()


def create_newsletter(slug: str, name: str, description: str = "") -> Newsletter:
    from sqlalchemy import select

    if db.session.scalar(select(Newsletter.id).where(Newsletter.slug == slug)) is not None:
        raise Conflict(f"a newsletter with slug '{slug}' exists")
    newsletter = Newsletter(slug=slug, name=name, description=description)
    db.session.add(newsletter)
    db.session.flush()
    return newsletter


def set_newsletter_active(newsletter_id: int, active: bool) -> Newsletter:
    """Open or close a newsletter to new subscribers (an inactive one is not offered at
    sign-up or on the account page and refuses subscribing); its subscribers, campaigns
    and their sends are untouched. Setting the state it already has changes nothing."""
    newsletter = db.session.get(Newsletter, newsletter_id)
    if newsletter is None:
        raise NotFound(f"newsletter {newsletter_id} not found")
    newsletter.active = active
    db.session.flush()
    return newsletter
