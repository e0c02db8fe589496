"""A test send (the console's "Send test"; named `trial` so no test runner takes it for
a test module): one copy of a campaign, built by the campaign's own renderer, to one
address over the same SMTP relay, before any reader gets it.

Why not a delivery row: deliveries are the record of who received the campaign (and
the sender claims every pending one), so a test creates none and touches no reader's
counts. The subject is marked "[Test]" so nobody takes it for the real issue, and the
Message-ID is fresh each time (a real delivery's id is deterministic per reader;
repeated tests sharing one would be folded together by mail clients). The unsubscribe
link is the reader's own when the address is a reader's, else a token for no reader
(the link then says it is not valid): it can never unsubscribe anyone else.
"""

from __future__ import annotations

import dataclasses
import re
import secrets

from flask import current_app
from sqlalchemy import select

from membership.errors import InvalidInput, ServiceUnavailable
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.message import message_id_for
from membership.mail.smtp import SmtpFailure, SmtpSender
from membership.newsletters.campaigns import get_campaign
from membership.newsletters.models import Newsletter
from membership.newsletters.render import CampaignRenderer
from membership.newsletters.unsubscribe import make_token

TEST_PREFIX = "[Test] "
NO_READER = 0
_ADDRESS = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


def trial_address(raw: str) -> str:
    """A single plain address (no display name, no list): what one test goes to."""
    address = raw.strip()
    if not _ADDRESS.match(address):
        raise InvalidInput("Give one email address to send the test to, such as you@example.org.")
    return address


def send_trial(campaign_id: int, raw_address: str) -> str:
    """Send the test now (the SMTP 250 is awaited); returns its Message-ID."""
    address = trial_address(raw_address)
    campaign = get_campaign(campaign_id)
    newsletter = db.session.get(Newsletter, campaign.newsletter_id)
    assert newsletter is not None  # a foreign key
    renderer = dataclasses.replace(CampaignRenderer.build(campaign, newsletter),
                                   subject=TEST_PREFIX + campaign.subject, template=None)
    reader_id = db.session.scalar(select(Reader.id).where(Reader.email == address.lower(),
                                                         Reader.deleted_at.is_(None)))
    token = make_token(reader_id or NO_READER, newsletter.id)
    message_id = message_id_for("newsletter-test", f"{campaign.id}:{secrets.token_hex(8)}")
    settings = current_app.config["SETTINGS"]
    try:
        with SmtpSender(settings.smtp_url) as smtp:
            smtp.send(settings.mail_from, address, renderer.single(address, message_id, token))
    except SmtpFailure as exc:
        raise ServiceUnavailable(f"The mail server did not take the test ({exc}). Nothing was sent; "
                                 "try again in a moment.") from exc
    except OSError as exc:
        raise ServiceUnavailable(f"The mail server could not be reached ({exc}). Nothing was sent.") from exc
    return message_id
