"""The embedded default: SQLite (plain UPDATE claims) and the in-process send-rate bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from membership import create_app
from membership.extensions import db
from membership.newsletters import campaigns
from membership.newsletters.models import CampaignStatus, Delivery
from membership.newsletters.sending import send_campaign
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter


@pytest.fixture
def sqlite_sender_app(tmp_path: Path, app_settings: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(mode="test", database_url=f"sqlite:///{tmp_path / 'app.db'}",
                             broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}", redis_url=None,
                             smtp_url=app_settings["smtp_url"])
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


def test_a_campaign_sends_on_sqlite_without_redis(sqlite_sender_app: Flask, mailbox: Any) -> None:
    newsletter = make_newsletter()
    add_readers(newsletter.id, 30)
    campaign = make_campaign(newsletter.id, CampaignStatus.SCHEDULED)
    db.session.commit()
    assert campaigns.start_sending(campaign.id) == 30
    db.session.commit()
    report = send_campaign(campaign.id, seconds=60)
    assert (report.sent, report.failed, report.stopped) == (30, 0, "drained")
    assert campaigns.finish_if_done(campaign.id)
    db.session.commit()
    assert {d.status.value for d in db.session.query(Delivery)} == {"sent"}
    assert sorted(r for m in mailbox.messages for r in m.rcpt_tos) == sorted(f"r{i}@example.org" for i in range(30))
