"""Staff API models for the webhook inbox (strict requests; see membership.api)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from membership.api import ApiModel
from membership.billing.models import WebhookStatus


class WebhookEventsQuery(ApiModel):
    status: WebhookStatus = WebhookStatus.DEAD
    limit: int = Field(default=100, ge=1, le=1000)


class WebhookEventOut(BaseModel):
    id: int
    stripe_event_id: str
    type: str
    object_id: str | None
    status: WebhookStatus
    attempts: int
    last_error: str | None
    received_at: datetime
    next_attempt_at: datetime | None


class WebhookEventsOut(BaseModel):
    events: list[WebhookEventOut]
    status: WebhookStatus
    count: int
