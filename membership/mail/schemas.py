"""Response models of the mail domain's staff API (see membership.api).

Times are written with `datetime.isoformat()` (`+00:00`, not pydantic's `Z`), the
form these endpoints answered with before they moved to the operation registry, so
existing staff clients and dashboards parse them unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, PlainSerializer, WithJsonSchema

from membership.mail.models import NoticeStatus

IsoDateTime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class NoticeAlertOut(BaseModel):
    """One unsent notice whose legal window closes soon or closed (mail.alerts.describe)."""

    notice_id: int
    kind: str
    email: str
    reader_id: int | None
    status: NoticeStatus
    due_at: IsoDateTime
    window_closes_at: IsoDateTime | None
    window_closed: bool
    attempts: int
    last_error: str | None
    alerted: bool


class NoticeAlertsOut(BaseModel):
    generated_at: IsoDateTime
    alerts: list[NoticeAlertOut]
