"""Staff API models (strict requests; see membership.api)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from membership.api import ApiModel


class AuditQuery(ApiModel):
    """Filters are exact (actor is an email or "cli"; action an operation id such as
    `newsletters_staff_api.create_newsletter`); `since` needs a time zone; page with
    `before_id` = the previous page's `next_before_id`."""

    actor: Annotated[str, StringConstraints(min_length=1, max_length=320)] | None = None
    action: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    since: AwareDatetime | None = None
    before_id: int | None = Field(default=None, ge=1, le=2**62)
    limit: int = Field(default=100, ge=1, le=500)


class AuditEntryOut(BaseModel):
    id: int
    actor: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, object]
    at: datetime


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    count: int
    next_before_id: int | None
