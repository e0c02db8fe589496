"""Request and response models of the site-facing API (strict requests; see membership.api)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, model_validator

from membership.api import ApiModel


class EntitlementQuery(ApiModel):
    """Exactly one of `email` or `reader`."""

    email: Annotated[str, StringConstraints(min_length=3, max_length=320, strip_whitespace=True)] | None = None
    reader: int | None = Field(default=None, ge=1, le=2**62)

    @model_validator(mode="after")
    def _one(self) -> EntitlementQuery:
        if (self.email is None) == (self.reader is None):
            raise ValueError("give exactly one of email or reader")
        return self


class EntitlementOut(BaseModel):
    member: bool
    tier: str | None
    until: datetime | None
    reason: str | None = Field(description="active | trial | grace | comp | gift; null when not a member")
    reader_id: int | None = Field(default=None, description="null when no reader has that address")
    email: str | None = Field(default=None, description="only for keys holding members:read")
    name: str | None = Field(default=None, description="only for keys holding members:read")


class EntitlementTokenOut(BaseModel):
    token: str = Field(description="A JWT (EdDSA, `kid` in the header) carrying member, tier, reason, exp")
    expires_at: datetime
    member: bool
    tier: str | None
    jwks_url: str


class JwksOut(BaseModel):
    keys: list[dict[str, Any]]


Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
