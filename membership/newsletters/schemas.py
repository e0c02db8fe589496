"""Request bodies of the staff newsletter API (pydantic: bad input is a 422, not a 500)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from membership.newsletters.models import Segment


class NewsletterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    newsletter_id: int = Field(gt=0)
    subject: str = Field(min_length=1, max_length=300)
    body_html: str = Field(min_length=1, max_length=1_000_000)
    body_text: str = Field(default="", max_length=1_000_000)
    segment: Segment = Segment.ALL_CONFIRMED
    segment_plan_id: int | None = Field(default=None, gt=0)


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scheduled_at: datetime | None = None
