"""The per-chunk template gives byte-for-byte what building each message would, faster."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from membership import create_app
from membership.newsletters.models import Campaign, Newsletter
from membership.newsletters.render import CampaignRenderer
from membership.newsletters.unsubscribe import read_token

LONG_URL = "https://a-rather-long-hostname.members.example-newsroom.org/reader-revenue"


@pytest.mark.parametrize("public_url", ["http://localhost", LONG_URL])
def test_stamped_copy_matches_a_fully_built_one(public_url: str, tmp_path: Path) -> None:
    app = create_app(mode="test", database_url=f"sqlite:///{tmp_path / 'r.db'}", public_url=public_url)
    with app.app_context():
        body = "<h1>Hello</h1>" + "<p>Naïve café reporting, long enough to wrap in quoted-printable lines.</p>" * 20
        campaign = Campaign(id=7, newsletter_id=3, subject="Café — this week", body_html=body, body_text="")
        renderer = CampaignRenderer.build(campaign, Newsletter(id=3, slug="daily", name="The Daily Brief"))
        assert renderer.template is not None, "the fast path must apply to an ordinary campaign"
        fast, message_id = renderer.render(123456, "someone@example.org")
        renderer.template = None
        slow, _ = renderer.render(123456, "someone@example.org")
    a = email.message_from_bytes(fast, policy=email.policy.default)
    b = email.message_from_bytes(slow, policy=email.policy.default)
    for header in ("To", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Subject", "From"):
        assert a[header] == b[header], header
    assert a["Message-ID"] == message_id
    for kind in ("plain", "html"):
        assert a.get_body((kind,)).get_content() == b.get_body((kind,)).get_content()
    url = a["List-Unsubscribe"].strip("<>")
    assert url.startswith(public_url + "/u/")
    raw = [line for line in fast.split(b"\r\n") if line.startswith(b"List-Unsubscribe:")]
    assert raw == [f"List-Unsubscribe: <{url}>".encode()]  # one line, never RFC 2047-encoded
    with app.app_context():
        assert read_token(url.rsplit("/", 1)[1]) == (123456, 3)
    assert url in a.get_body(("plain",)).get_content() and url in a.get_body(("html",)).get_content()
    assert max(len(line) for line in fast.split(b"\r\n")) <= 998
