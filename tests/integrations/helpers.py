"""Adding endpoints as an admin would, and reading the outbox back."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from membership.extensions import db
from membership.integrations.models import OutboundEndpoint, OutboundEvent

ALL_TYPES = ("member.created,member.updated,member.deleted,subscription.started,subscription.changed,"
             "subscription.canceled,payment.succeeded,payment.refunded,donation.received,newsletter.subscribed,"
             "newsletter.unsubscribed")


def add_endpoint(app: Flask, url: str, events: str = ALL_TYPES, *scopes: str) -> tuple[OutboundEndpoint, str]:
    args = ["webhooks-out", "add", url, "--events", events]
    for scope in scopes:
        args += ["--scope", scope]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    match = re.search(r"added endpoint (\d+) .*secret \(shown once\): (whsec_\S+)", result.output)
    assert match, result.output
    endpoint = db.session.get(OutboundEndpoint, int(match.group(1)))
    assert endpoint is not None
    return endpoint, match.group(2)


def events(reader_id: int | None = None) -> list[tuple[str, int]]:
    stmt = select(OutboundEvent.type, OutboundEvent.reader_id).order_by(OutboundEvent.id)
    if reader_id is not None:
        stmt = stmt.where(OutboundEvent.reader_id == reader_id)
    return [(t, r) for t, r in db.session.execute(stmt)]
