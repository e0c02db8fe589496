"""Request and response models of the staff's comps and gifts operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from membership.api import ApiModel


class CompIn(ApiModel):
    reader_id: int = Field(ge=1, le=2**62)
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    expires_at: datetime
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""


class CompOut(BaseModel):
    id: int
    reader_id: int
    plan_id: int
    reason: str
    starts_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class CompsOut(BaseModel):
    comps: list[CompOut]


class CompsQuery(ApiModel):
    reader_id: int | None = Field(default=None, ge=1, le=2**62)


class GiftOut(BaseModel):
    id: int
    purchaser_reader_id: int
    plan_id: int
    months: int
    amount_minor: int
    currency: str
    status: str
    paid_at: datetime | None
    redeemed_by_reader_id: int | None
    redeemed_at: datetime | None
    expires_at: datetime | None


class GiftsOut(BaseModel):
    gifts: list[GiftOut]


class GiftsQuery(ApiModel):
    status: Literal["pending_payment", "paid", "redeemed"] | None = None
