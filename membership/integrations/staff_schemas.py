"""Staff API models for API keys, the signing key and outbound webhook endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from membership.api import ApiModel
from membership.integrations.models import DeliveryStatus

Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Word = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Url = Annotated[str, StringConstraints(min_length=8, max_length=2000, strip_whitespace=True)]


class ApiKeyIn(ApiModel):
    name: Name
    scopes: list[Word] = Field(min_length=1, max_length=10)


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="Shown once; only its hash is stored")


class ApiKeysOut(BaseModel):
    keys: list[ApiKeyOut]


class SigningKeyOut(BaseModel):
    kid: str
    created_at: datetime
    retired_at: datetime | None
    publish_until: datetime | None


class RotatedOut(BaseModel):
    current: SigningKeyOut
    retired: list[str]


class EndpointIn(ApiModel):
    url: Url
    events: list[Word] = Field(min_length=1, max_length=20)
    scopes: list[Word] = Field(default_factory=list, max_length=10)
    description: Annotated[str, StringConstraints(max_length=200)] = ""


class EndpointPatch(ApiModel):
    url: Url | None = None
    events: list[Word] | None = Field(default=None, min_length=1, max_length=20)
    scopes: list[Word] | None = Field(default=None, max_length=10)
    enabled: bool | None = None


class EndpointOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    scopes: list[str]
    consecutive_failures: int
    created_by: str
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="The whsec_ signing secret; shown once")


class EndpointsOut(BaseModel):
    endpoints: list[EndpointOut]
    event_types: dict[str, str]


class DeliveriesQuery(ApiModel):
    status: DeliveryStatus | None = None
    before_id: int | None = Field(default=None, ge=1, le=2**62)
    limit: int = Field(default=50, ge=1, le=500)


class DeliveryOut(BaseModel):
    id: int
    event_id: int
    reader_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut]


class AttemptsQuery(ApiModel):
    before_id: int | None = Field(default=None, ge=1, le=2**62)
    limit: int = Field(default=50, ge=1, le=500)


class AttemptOut(BaseModel):
    id: int
    delivery_id: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class AttemptsOut(BaseModel):
    attempts: list[AttemptOut]


class ReplayedOut(BaseModel):
    replayed: int
