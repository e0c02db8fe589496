"""A campaign through a real Celery worker on Redis to a real aiosmtpd sink over SMTP."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlparse

from flask import Flask

from membership.extensions import db
from membership.identity.models import Reader
from membership.newsletters.models import Campaign, CampaignStatus, Delivery, NewsletterSubscription, OptInStatus
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter
from tests.support.worker import wait_until

START = "workers.tasks.newsletters.start_campaign"


def start(app: Flask, campaign_id: int) -> None:
    app.extensions["celery"].send_task(START, args=[campaign_id])


def campaign_status(campaign_id: int) -> str:
    db.session.rollback()
    return str(db.session.scalar(db.select(Campaign.status).where(Campaign.id == campaign_id)))


def test_every_message_carries_the_bulk_sender_headers(
    app: Flask, committed_db: None, mailbox: Any, start_worker: Any
) -> None:
    newsletter = make_newsletter("weekly", "Weekend Reads")
    ids = add_readers(newsletter.id, 12)
    campaign = make_campaign(newsletter.id, CampaignStatus.SCHEDULED, subject="Weekend Reads #1",
                             body_html="<h1>Hello</h1><p>Long reads for the weekend.</p>",
                             body_text="Hello\n\nLong reads for the weekend.")
    db.session.commit()
    start_worker(queues="newsletters")
    start(app, campaign.id)
    assert wait_until(lambda: campaign_status(campaign.id) == "sent", timeout=60)
    assert len(mailbox.messages) == 12

    settings = app.config["SETTINGS"]
    seen_ids = set()
    for received in mailbox.messages:
        msg = email.message_from_bytes(received.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        assert received.rcpt_tos == [msg["To"]]
        assert msg["Date"] and msg["Message-ID"].startswith("<newsletter.")
        seen_ids.add(msg["Message-ID"])
        assert msg["List-Id"] == f"Weekend Reads <weekly.{msg['Message-ID'].split('@')[1].rstrip('>')}>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = msg["List-Unsubscribe"].strip("<>")
        assert url.startswith(settings.public_url + "/u/")
        assert msg["Subject"] == "Weekend Reads #1"
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        for body in (text, html):
            assert url in body and settings.outlet_postal_address in body
        assert "Long reads for the weekend." in text and "<h1" in html and "style=" in html  # CSS inlined
    assert len(seen_ids) == 12

    rows = db.session.scalars(db.select(Delivery).where(Delivery.campaign_id == campaign.id)).all()
    assert {r.status.value for r in rows} == {"sent"} and {r.reader_id for r in rows} == set(ids)
    assert {r.message_id for r in rows} == seen_ids

    # The List-Unsubscribe URL works as RFC 8058 one-click: POST, no login, 200.
    victim = email.message_from_bytes(mailbox.messages[0].data, policy=email.policy.default)
    path = urlparse(victim["List-Unsubscribe"].strip("<>")).path
    web = app.test_client()
    assert web.get(path).status_code == 200
    reader_id = db.session.scalar(db.select(Reader.id).where(Reader.email == victim["To"]))
    sub = db.select(NewsletterSubscription.status).where(NewsletterSubscription.reader_id == reader_id)
    assert db.session.scalar(sub) == OptInStatus.CONFIRMED  # GET changed nothing
    response = web.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.rollback()
    assert db.session.scalar(sub) == OptInStatus.UNSUBSCRIBED
