"""What the Newsletters pages read and how their forms are parsed: the compose form
(newsletter, subject, Markdown body, segment), a segment's recipient count, the schedule
time, and the newsletters list with each campaign's figures.

Counting asks `segments.recipients`, the very SELECT the sender's delivery rows come
from, so the number an editor sees is the number that will be sent (less whoever
unsubscribes or bounces before the send). Times are shown and entered in the outlet's
time zone (OUTLET_TIMEZONE): what an editor means by "9 am tomorrow".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from membership.billing.models import Plan, PlanKind
from membership.db import utcnow
from membership.errors import DomainError
from membership.extensions import db
from membership.ledger.journal import outlet_zone
from membership.newsletters.models import Campaign, Newsletter, Segment
from membership.newsletters.outcomes import Progress, progress_of
from membership.newsletters.segments import recipients

MAX_SUBJECT = 300
MAX_BODY = 100_000
MAX_LABEL = 100
MAX_AHEAD = timedelta(days=366)
LIST_CAMPAIGNS = 25  # per newsletter, newest first
SEGMENTS: tuple[tuple[str, str], ...] = (
    (Segment.ALL_CONFIRMED.value, "All confirmed subscribers"),
    (Segment.PAYING_MEMBERS.value, "Paying members"),
    (Segment.DONORS.value, "Donors"),
    (Segment.FREE_READERS.value, "Free readers (not members)"),
    (Segment.TIER.value, "Members of one tier"),
    (Segment.LABEL.value, "Readers with a label"),
)
SEGMENT_NAMES = dict(SEGMENTS)
SEGMENT_FIELDS = frozenset({"newsletter_id", "segment", "plan_id", "label"})  # what a count needs


class FormInvalid(DomainError):
    """The compose or schedule form is incomplete or wrong: shown again with the message."""

    status, title, type_slug = 400, "Check the form", "bad-form"


@dataclass
class Compose:
    """The compose form as sent (strings kept as typed, to show them again) and parsed."""

    newsletter_id: int | None = None
    subject: str = ""
    body: str = ""
    segment: Segment = Segment.ALL_CONFIRMED
    plan_id: int | None = None
    label: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def segment_args(self) -> tuple[Segment, int | None, str | None]:
        return self.segment, self.plan_id, self.label or None


def as_id(raw: str | None) -> int | None:
    """A form's id field as an int; None when absent or not a plain number."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def parse_segment(form: Mapping[str, str], into: Compose) -> Compose:
    """Newsletter and segment fields only (what a count needs)."""
    into.newsletter_id = as_id(form.get("newsletter_id"))
    if into.newsletter_id is None or db.session.get(Newsletter, into.newsletter_id) is None:
        into.errors["newsletter_id"] = "Choose the newsletter this campaign goes out as."
    raw_segment = form.get("segment", Segment.ALL_CONFIRMED.value)
    if raw_segment not in SEGMENT_NAMES:
        into.errors["segment"] = "Choose who receives it from the list."
        return into
    into.segment = Segment(raw_segment)
    if into.segment == Segment.TIER:
        into.plan_id = as_id(form.get("plan_id"))
        if into.plan_id is None or into.plan_id not in {p.id for p in tiers()}:
            into.errors["plan_id"] = "Choose the tier whose members receive it."
    if into.segment == Segment.LABEL:
        into.label = form.get("label", "").strip()[:MAX_LABEL]
        if not into.label:
            into.errors["label"] = "Type the label whose readers receive it (as the import gave it)."
    return into


def parse_compose(form: Mapping[str, str]) -> Compose:
    found = Compose(subject=form.get("subject", "").strip(), body=form.get("body", "").replace("\r\n", "\n"))
    parse_segment(form, found)
    if not found.subject:
        found.errors["subject"] = "Write a subject line."
    elif len(found.subject) > MAX_SUBJECT or "\n" in found.subject:
        found.errors["subject"] = f"Keep the subject to one line of at most {MAX_SUBJECT} characters."
    if not found.body.strip():
        found.errors["body"] = "Write the body of the campaign (in Markdown)."
    elif len(found.body) > MAX_BODY:
        found.errors["body"] = f"The body is longer than {MAX_BODY:,} characters; shorten it."
    return found


def from_campaign(campaign: Campaign) -> Compose:
    """A draft back in the form: the Markdown source is the campaign's text part."""
    return Compose(newsletter_id=campaign.newsletter_id, subject=campaign.subject, body=campaign.body_text,
                   segment=campaign.segment, plan_id=campaign.segment_plan_id, label=campaign.segment_label or "")


def count(newsletter_id: int, segment: Segment, plan_id: int | None, label: str | None) -> int:
    stmt = select(func.count()).select_from(recipients(newsletter_id, segment, plan_id, label).subquery())
    return int(db.session.scalar(stmt) or 0)


def recipients_before_send(campaign: Campaign, figures: Progress) -> int | None:
    """Before the send made its delivery rows, the readers the segment holds today;
    after, None (the rows are the count)."""
    if figures.total:
        return None
    return count(campaign.newsletter_id, campaign.segment, campaign.segment_plan_id, campaign.segment_label)


def tiers() -> list[Plan]:
    """Membership plans (a tier segment selects their paying members), active first."""
    return list(db.session.scalars(select(Plan).where(Plan.kind == PlanKind.MEMBERSHIP)
                                   .order_by(Plan.active.desc(), Plan.rank, Plan.name)))


def newsletters() -> list[Newsletter]:
    return list(db.session.scalars(select(Newsletter).order_by(Newsletter.active.desc(), Newsletter.id)))


def segment_text(campaign: Campaign | Compose) -> str:
    """"Members of one tier: Supporter" - who a campaign goes to, in words."""
    segment = campaign.segment
    plan_id = campaign.segment_plan_id if isinstance(campaign, Campaign) else campaign.plan_id
    label = campaign.segment_label if isinstance(campaign, Campaign) else campaign.label
    text = SEGMENT_NAMES[segment.value]
    if segment == Segment.TIER and plan_id is not None:
        plan = db.session.get(Plan, plan_id)
        text += f": {plan.name if plan else plan_id}"
    elif segment == Segment.LABEL and label:
        text += f": {label}"
    return text


@dataclass(frozen=True)
class Row:
    campaign: Campaign
    figures: Progress


@dataclass(frozen=True)
class Listing:
    newsletter: Newsletter
    campaigns: list[Row]
    more: bool


def listing() -> list[Listing]:
    """Each newsletter with its newest campaigns and their figures (counted for all at once)."""
    newest = [(newsletter, list(db.session.scalars(select(Campaign).where(Campaign.newsletter_id == newsletter.id)
                                                   .order_by(Campaign.id.desc()).limit(LIST_CAMPAIGNS + 1))))
              for newsletter in newsletters()]
    figures = progress_of([c for _, rows in newest for c in rows[:LIST_CAMPAIGNS]])
    return [Listing(newsletter, [Row(c, figures[c.id]) for c in rows[:LIST_CAMPAIGNS]], len(rows) > LIST_CAMPAIGNS)
            for newsletter, rows in newest]


def local(value: datetime | None) -> str:
    """'5 Dec 2026, 09:30 PST' in the outlet's zone; '—' for none."""
    if value is None:
        return "—"
    return value.astimezone(outlet_zone()).strftime("%-d %b %Y, %H:%M %Z")


def schedule_time(form: Mapping[str, str]) -> datetime | None:
    """None for "now"; else the datetime-local field read in the outlet's zone."""
    when = form.get("when", "now")
    if when == "now":
        return None
    if when != "later":
        raise FormInvalid("Choose when to send: now, or at a date and time.")
    raw = form.get("at", "").strip()
    try:
        at = datetime.fromisoformat(raw).replace(tzinfo=outlet_zone())
    except ValueError as exc:
        raise FormInvalid("Give the date and time to send at, such as 2026-12-24 09:00.") from exc
    now = utcnow()
    if at <= now:
        raise FormInvalid("That time has passed; choose a later one, or send now.")
    if at > now + MAX_AHEAD:
        raise FormInvalid("Schedule at most a year ahead.")
    return at
