"""Models of the staff newsletter API (strict requests; see membership.api).

Requests subclass `ApiModel`, so unknown fields and wrong JSON types are a 422 before
a view runs. Responses keep the field names and time format (`isoformat()`, `+00:00`) the API
answered with before it moved to the operation registry, so existing staff clients
read them unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from membership.api import ApiModel
from membership.api.registry import MAX_ID
from membership.mail.schemas import IsoDateTime
from membership.newsletters.models import CampaignStatus, Segment

# Ids are BIGINT: a larger number cannot exist and must not reach PostgreSQL (a 500).
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _in_utc(value: datetime) -> datetime:
    """Stored as UTC: an offset that pushes the time past year 1 or 9999 is refused
    here (422) rather than overflowing when the column converts it (500)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


class NewsletterIn(ApiModel):
    slug: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)


class CampaignIn(ApiModel):
    newsletter_id: RowId
    subject: str = Field(min_length=1, max_length=300)
    body_html: str = Field(min_length=1, max_length=1_000_000)
    body_text: str = Field(default="", max_length=1_000_000)
    segment: Segment = Segment.ALL_CONFIRMED
    segment_plan_id: RowId | None = None
    segment_label: str | None = Field(default=None, min_length=1, max_length=100)


class ScheduleIn(ApiModel):
    """`scheduled_at` omitted or null: now. A time without an offset is ambiguous (422)."""

    scheduled_at: Annotated[AwareDatetime, AfterValidator(_in_utc)] | None = None


class NewsletterOut(BaseModel):
    id: int
    slug: str
    name: str
    active: bool


class NewsletterCreatedOut(BaseModel):
    """What creating answered before the move: no `active` (a new newsletter is active)."""

    id: int
    slug: str
    name: str


class NewslettersOut(BaseModel):
    data: list[NewsletterOut]


class DeliveryCountsOut(BaseModel):
    """Delivery rows of a campaign by status; every status is present, zero when none."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0


class CampaignOut(BaseModel):
    id: int
    newsletter_id: int
    subject: str
    segment: Segment
    segment_plan_id: int | None
    status: CampaignStatus
    scheduled_at: IsoDateTime | None
    started_at: IsoDateTime | None
    finished_at: IsoDateTime | None
    deliveries: DeliveryCountsOut
