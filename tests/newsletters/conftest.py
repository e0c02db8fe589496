"""Helpers for newsletter tests: readers in bulk, a staff token, campaigns ready to send."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import Reader
from membership.newsletters.models import Campaign, CampaignStatus, Newsletter, NewsletterSubscription, OptInStatus


def add_readers(newsletter_id: int, count: int, prefix: str = "r") -> list[int]:
    """Bulk-insert confirmed subscribers (fast enough for thousands)."""
    now = utcnow()
    rows = db.session.execute(
        insert(Reader).returning(Reader.id),
        [{"email": f"{prefix}{i}@example.org", "name": f"Reader {i}", "created_at": now} for i in range(count)],
    ).scalars().all()
    db.session.execute(
        insert(NewsletterSubscription),
        [{"reader_id": rid, "newsletter_id": newsletter_id, "status": OptInStatus.CONFIRMED, "source": "test",
          "requested_at": now, "confirmed_at": now} for rid in rows],
    )
    return list(rows)


def make_newsletter(slug: str = "daily", name: str = "The Daily Brief") -> Newsletter:
    newsletter = Newsletter(slug=slug, name=name)
    db.session.add(newsletter)
    db.session.flush()
    return newsletter


def make_campaign(newsletter_id: int, status: CampaignStatus = CampaignStatus.DRAFT, **kw: Any) -> Campaign:
    values: dict[str, Any] = {"subject": "This week", "body_html": "<h1>Hello</h1><p>News &amp; notes.</p>",
                              "body_text": "Hello\n\nNews & notes."}
    values.update(kw)
    campaign = Campaign(newsletter_id=newsletter_id, status=status, **values)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def reader_ids(emails: list[str]) -> list[int]:
    return list(db.session.scalars(select(Reader.id).where(Reader.email.in_(emails))))


@pytest.fixture
def staff_token(db_session: Any) -> str:
    from membership.staff.services import create_staff_user

    _, token = create_staff_user("editor@example.org", StaffRole.EDITOR)
    db.session.commit()  # a refused API request rolls back what is uncommitted (the registry)
    return token
