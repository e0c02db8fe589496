"""The body one endpoint receives for one event: `{"type", "timestamp", "data"}`.

Personal data is added here, at delivery, and only for endpoints holding
`members:read`: the reader's current email and name (an erased reader has none). The
stored event never holds them, so what a receiver gets can never exceed its scope, and
narrowing an endpoint's scope takes effect on the next try of an old event too.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC
from typing import Any

from sqlalchemy.orm import Session

from membership.identity.models import Reader
from membership.integrations.models import OutboundEndpoint, OutboundEvent
from membership.integrations.scopes import MEMBERS_READ


def message_id(event: OutboundEvent) -> str:
    return f"evt_{event.id}"


def body(session: Session, event: OutboundEvent, endpoint: OutboundEndpoint) -> bytes:
    data: dict[str, Any] = copy.deepcopy(dict(event.data))
    member = data.get("member")
    if isinstance(member, dict) and MEMBERS_READ in endpoint.scopes:
        reader = session.get(Reader, event.reader_id)
        if reader is not None and reader.deleted_at is None:
            member.update(email=reader.email, name=reader.name)
    stamp = event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event.type, "timestamp": stamp, "data": data}, separators=(",", ":")).encode()
