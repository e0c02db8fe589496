"""Newsletters through the test client: who may open them, composing (validation, the
sanitised preview, segment counts equal to the sender's own SELECT), the state moves
with their audit entries, and a test send that mails once and creates no delivery."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import ReaderLabel
from membership.newsletters.models import Campaign, CampaignStatus, Delivery, DeliveryStatus, Newsletter, Segment
from membership.newsletters.segments import recipients
from membership.staff.models import AuditLog
from tests.console.helpers import sign_in_client, staff_user
from tests.newsletters.conftest import add_readers, make_campaign, make_newsletter

BODY = "# This week\n\nA **bold** line and [a link](https://example.org).\n"


def _editor(client: FlaskClient, role: StaffRole = StaffRole.EDITOR) -> str:
    return sign_in_client(client, staff_user(role, f"{role.value}@staff.example"))


def _form(csrf: str, nl: int, **over: str) -> dict[str, str]:
    return {"csrf_token": csrf, "newsletter_id": str(nl), "subject": "Weekend Reads #1", "body": BODY,
            "segment": "all_confirmed", "plan_id": "", "label": "", "action": "save", **over}


def _campaigns() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Campaign)) or 0)


@pytest.fixture(autouse=True)
def _no_broker() -> Any:
    """Enqueued tasks are recorded, not published (the browser test runs a real worker)."""
    with mock.patch("membership.newsletters.dispatch.enqueue_after_commit") as enqueue:
        yield enqueue


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.FINANCE])
def test_support_and_finance_are_refused(client: FlaskClient, role: StaffRole) -> None:
    newsletter = make_newsletter()
    campaign = make_campaign(newsletter.id)
    db.session.commit()
    csrf = _editor(client, role)
    for path in ("/staff/newsletters", "/staff/newsletters/campaigns/new", f"/staff/newsletters/campaigns/{campaign.id}",
                 f"/staff/newsletters/campaigns/{campaign.id}/progress"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "newsletters:read" in page.get_data(as_text=True)
    refused = client.post(f"/staff/newsletters/campaigns/{campaign.id}/schedule", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert client.post("/staff/newsletters/campaigns/new", data=_form(csrf, newsletter.id)).status_code == 403
    assert _campaigns() == 1 and db.session.get(Campaign, campaign.id).status == CampaignStatus.DRAFT  # type: ignore[union-attr]
    assert "/staff/newsletters" not in client.get("/staff/members" if role == StaffRole.SUPPORT
                                                  else "/staff/dashboard").get_data(as_text=True)


def test_an_editor_sees_the_newsletters_and_composes_a_draft(client: FlaskClient) -> None:
    newsletter = make_newsletter()
    add_readers(newsletter.id, 3)
    db.session.commit()
    csrf = _editor(client)
    listing = client.get("/staff/newsletters")
    assert listing.status_code == 200 and "The Daily Brief" in listing.get_data(as_text=True)
    assert 'href="/staff/newsletters"' in listing.get_data(as_text=True)  # in the nav
    assert client.get("/staff/newsletters/campaigns/new").status_code == 200

    saved = client.post("/staff/newsletters/campaigns/new", data=_form(csrf, newsletter.id))
    assert saved.status_code == 303
    campaign = db.session.scalars(select(Campaign)).one()
    assert saved.headers["Location"].endswith(f"/staff/newsletters/campaigns/{campaign.id}")
    assert campaign.status == CampaignStatus.DRAFT and campaign.body_text == BODY
    assert "<strong>bold</strong>" in campaign.body_html and '<a href="https://example.org" rel="noopener noreferrer">' in campaign.body_html
    page = client.get(f"/staff/newsletters/campaigns/{campaign.id}").get_data(as_text=True)
    assert "<strong>bold</strong>" in page and "3 confirmed subscribers" in page
    assert "Weekend Reads #1" in client.get("/staff/newsletters").get_data(as_text=True)

    edited = client.post(f"/staff/newsletters/campaigns/{campaign.id}/edit",
                         data=_form(csrf, newsletter.id, subject="Weekend Reads #2"))
    assert edited.status_code == 303
    db.session.refresh(campaign)
    assert campaign.subject == "Weekend Reads #2"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("subject", "  ", "Write a subject line."),
    ("body", "\n \n", "Write the body of the campaign"),
    ("segment", "everyone", "Choose who receives it"),
    ("segment", "label", "Type the label"),
    ("newsletter_id", "999", "Choose the newsletter"),
])
def test_a_bad_compose_form_is_a_400_with_its_message_and_creates_nothing(
        client: FlaskClient, field: str, value: str, message: str) -> None:
    newsletter = make_newsletter()
    db.session.commit()
    csrf = _editor(client)
    resp = client.post("/staff/newsletters/campaigns/new", data=_form(csrf, newsletter.id, **{field: value}))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert _campaigns() == 0


def test_the_preview_sanitises_raw_html(client: FlaskClient) -> None:
    newsletter = make_newsletter()
    db.session.commit()
    csrf = _editor(client)
    evil = "Hi <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))"
    answer = client.post("/staff/newsletters/preview", data={"csrf_token": csrf, "body": evil})
    assert answer.status_code == 200
    html = answer.get_json()["html"]
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = client.post("/staff/newsletters/campaigns/new",
                       data=_form(csrf, newsletter.id, body=evil, action="preview")).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _campaigns() == 0  # a preview saves nothing
    assert client.post("/staff/newsletters/preview", data={"body": "x"}).status_code == 403  # no CSRF token


def test_an_unsanitised_body_is_shown_cleaned_not_run(client: FlaskClient) -> None:
    """Bodies are stored sanitised now; a row from before that (here written straight
    into the table) is cleaned by the same allow-list when the page shows it."""
    newsletter = make_newsletter()
    campaign = make_campaign(newsletter.id, body_html="<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(2)>",
                             body_text="Hi")
    db.session.commit()
    _editor(client)
    page = client.get(f"/staff/newsletters/campaigns/{campaign.id}").get_data(as_text=True)
    assert "alert(" not in page and "onerror" not in page
    assert '<div class="mail-body"><p>Hi</p><img></div>' in page


def test_segment_counts_are_the_senders_own(client: FlaskClient) -> None:
    newsletter = make_newsletter()
    ids = add_readers(newsletter.id, 7)
    add_readers(make_newsletter("other", "Other").id, 4, prefix="o")
    db.session.add_all(ReaderLabel(reader_id=rid, label="vip") for rid in ids[:2])
    db.session.commit()
    csrf = _editor(client)
    for segment, label, expected in ((Segment.ALL_CONFIRMED, "", 7), (Segment.FREE_READERS, "", 7),
                                     (Segment.PAYING_MEMBERS, "", 0), (Segment.DONORS, "", 0),
                                     (Segment.LABEL, "vip", 2), (Segment.LABEL, "nobody", 0)):
        truth = db.session.scalar(select(func.count()).select_from(
            recipients(newsletter.id, segment, None, label or None).subquery()))
        answer = client.post("/staff/newsletters/count", data={"csrf_token": csrf, "newsletter_id": newsletter.id,
                                                              "segment": segment.value, "label": label})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["count"] == truth == expected, segment
        page = client.post("/staff/newsletters/campaigns/new", data=_form(
            csrf, newsletter.id, segment=segment.value, label=label, action="preview")).get_data(as_text=True)
        assert f">{expected} confirmed subscriber" in page
    bad = client.post("/staff/newsletters/count", data={"csrf_token": csrf, "newsletter_id": newsletter.id,
                                                        "segment": "tier", "plan_id": "424242"})
    assert bad.status_code == 400 and "tier" in bad.get_json()["error"]


def _audit(action: str, campaign_id: int) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action,
                                                          AuditLog.target_id == str(campaign_id))))


def test_schedule_pause_resume_cancel_are_moves_of_the_state_machine_and_audited(
        client: FlaskClient, _no_broker: Any) -> None:
    newsletter = make_newsletter()
    campaign = make_campaign(newsletter.id)
    db.session.commit()
    csrf = _editor(client)
    url = f"/staff/newsletters/campaigns/{campaign.id}"

    def post(name: str, **form: str) -> Any:
        return client.post(f"{url}/{name}", data={"csrf_token": csrf, **form})

    def status() -> CampaignStatus:
        db.session.expire_all()
        return db.session.get(Campaign, campaign.id).status  # type: ignore[union-attr]

    assert post("pause").status_code == 409 and status() == CampaignStatus.DRAFT  # not sending
    assert "cannot move to paused" in post("pause").get_data(as_text=True)
    later = post("schedule", when="later", at="2001-01-01T09:00")
    assert later.status_code == 400 and "has passed" in later.get_data(as_text=True)
    assert post("schedule", when="later", at="tomorrow").status_code == 400
    assert status() == CampaignStatus.DRAFT and not _no_broker.called

    at = (utcnow() + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    assert post("schedule", when="later", at=at).status_code == 303 and status() == CampaignStatus.SCHEDULED
    assert not _no_broker.called  # later: beat starts it
    assert post("unschedule").status_code == 303 and status() == CampaignStatus.DRAFT
    assert post("schedule", when="now").status_code == 303 and status() == CampaignStatus.SCHEDULED
    assert _no_broker.call_count == 1  # the start task, after the commit
    assert client.get(f"{url}/edit").status_code == 409  # only drafts are edited

    db.session.execute(db.update(Campaign).where(Campaign.id == campaign.id).values(status=CampaignStatus.SENDING))
    db.session.commit()
    assert post("resume").status_code == 409
    assert post("pause").status_code == 303 and status() == CampaignStatus.PAUSED
    assert post("resume").status_code == 303 and status() == CampaignStatus.SENDING
    assert _no_broker.call_count == 1 + 2  # NEWSLETTER_SENDERS senders restarted
    assert post("cancel", confirm="yes").status_code == 303 and status() == CampaignStatus.CANCELLED
    assert post("cancel", confirm="yes").status_code == 409 and post("resume").status_code == 409

    for action, ok in (("console.schedule", 2), ("console.campaign_pause", 1), ("console.campaign_resume", 1),
                       ("console.campaign_cancel", 1), ("console.campaign_unschedule", 1)):
        entries = _audit(action, campaign.id)
        assert len([e for e in entries if e.details["status"] == 303]) == ok, action
        assert all(e.actor == "editor@staff.example" and e.details["via"] == "console" for e in entries)
    assert {e.details["status"] for e in _audit("console.campaign_pause", campaign.id)} == {303, 409}
    progress = client.get(f"{url}/progress").get_json()
    assert progress["status"] == "cancelled" and progress["total"] == 0


def test_a_test_send_mails_once_and_creates_no_delivery(client: FlaskClient, mailbox: Any) -> None:
    newsletter = make_newsletter()
    add_readers(newsletter.id, 5)
    csrf = _editor(client)
    client.post("/staff/newsletters/campaigns/new", data=_form(csrf, newsletter.id))
    campaign = db.session.scalars(select(Campaign)).one()
    page = client.get(f"/staff/newsletters/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'value="editor@staff.example"' in page  # the default address is the editor's own

    bad = client.post(f"/staff/newsletters/campaigns/{campaign.id}/test",
                      data={"csrf_token": csrf, "to": "a@b.org, c@d.org"})
    assert bad.status_code == 422 and not mailbox.messages
    sent = client.post(f"/staff/newsletters/campaigns/{campaign.id}/test",
                       data={"csrf_token": csrf, "to": "editor@staff.example"})
    assert sent.status_code == 303
    assert len(mailbox.messages) == 1 and mailbox.messages[0].rcpt_tos == ["editor@staff.example"]
    msg = email.message_from_bytes(mailbox.messages[0].data, policy=email.policy.default)
    assert msg["Subject"] == "[Test] Weekend Reads #1"
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<strong>bold</strong>" in html and "/u/" in html and "The Daily Brief" in html
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.DRAFT
    entries = _audit("console.send_test", campaign.id)
    assert [e.details["status"] for e in entries] == [422, 303]
    assert entries[-1].details["form"]["to"] == "editor@staff.example"


# --- newsletters made and closed from the console; cancel asks first -------------------------

def _nl_form(csrf: str, **over: str) -> dict[str, str]:
    return {"csrf_token": csrf, "name": "Weekend Reads", "slug": "weekend-reads",
            "description": "Long stories for Saturday.", **over}


def _newsletters() -> list[Newsletter]:
    db.session.expire_all()
    return list(db.session.scalars(select(Newsletter).order_by(Newsletter.id)))


def test_an_editor_creates_a_newsletter_and_closes_and_reopens_it(client: FlaskClient) -> None:
    csrf = _editor(client)
    empty = client.get("/staff/newsletters").get_data(as_text=True)
    assert "There is no newsletter yet" in empty and 'action="/staff/newsletters"' in empty
    made = client.post("/staff/newsletters", data=_nl_form(csrf))
    assert made.status_code == 303 and "/staff/newsletters#nl-" in made.headers["Location"]
    [newsletter] = _newsletters()
    assert (newsletter.slug, newsletter.name, newsletter.description, newsletter.active) == (
        "weekend-reads", "Weekend Reads", "Long stories for Saturday.", True)
    page = client.get("/staff/newsletters").get_data(as_text=True)
    assert "Newsletter “Weekend Reads” created" in page and "Mark inactive" in page
    [entry] = list(db.session.scalars(select(AuditLog).where(AuditLog.action == "console.create_newsletter")))
    assert entry.details["status"] == 303 and entry.details["via"] == "console"

    derived = client.post("/staff/newsletters", data=_nl_form(csrf, name="Café  Politics", slug=""))
    assert derived.status_code == 303 and _newsletters()[-1].slug == "cafe-politics"

    url = f"/staff/newsletters/{newsletter.id}/active"
    assert client.post(url, data={"csrf_token": csrf, "active": "no"}).status_code == 303
    assert not _newsletters()[0].active
    page = client.get("/staff/newsletters").get_data(as_text=True)
    assert "is inactive: no new subscribers" in page and "Mark active" in page
    assert client.post(url, data={"csrf_token": csrf, "active": "no"}).status_code == 303  # twice: same state
    assert not _newsletters()[0].active
    assert client.post(url, data={"csrf_token": csrf, "active": "maybe"}).status_code == 400
    assert client.post("/staff/newsletters/999999/active", data={"csrf_token": csrf, "active": "yes"}).status_code == 404
    assert client.post(url, data={"active": "yes"}).status_code == 403  # no CSRF token
    assert not _newsletters()[0].active
    assert client.post(url, data={"csrf_token": csrf, "active": "yes"}).status_code == 303
    assert _newsletters()[0].active
    statuses = [e.details["status"] for e in db.session.scalars(
        select(AuditLog).where(AuditLog.action == "console.newsletter_active").order_by(AuditLog.id))]
    assert statuses == [303, 303, 400, 404, 403, 303]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "  ", "Give the newsletter a name"),
    ("name", "n" * 201, "Keep the name to 200 characters"),
    ("slug", "Weekend Reads!", "A slug is up to 64 lower-case letters"),
    ("slug", "-lead", "A slug is up to 64"),
    ("slug", "s" * 65, "A slug is up to 64"),
    ("description", "d" * 5001, "Keep the description to 5,000 characters"),
])
def test_a_bad_newsletter_form_is_a_400_with_its_message_and_creates_nothing(
        client: FlaskClient, field: str, value: str, message: str) -> None:
    csrf = _editor(client)
    resp = client.post("/staff/newsletters", data=_nl_form(csrf, **{field: value}))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html and "<details class=\"panel new-newsletter\" open>" in html
    assert _newsletters() == []


def test_a_taken_slug_is_a_409_with_the_form_kept(client: FlaskClient) -> None:
    make_newsletter("weekend-reads", "Old Weekend")
    db.session.commit()
    csrf = _editor(client)
    resp = client.post("/staff/newsletters", data=_nl_form(csrf, name="New Weekend"))
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "“weekend-reads” is taken" in html and 'value="New Weekend"' in html
    assert [n.name for n in _newsletters()] == ["Old Weekend"]


def test_support_and_finance_cannot_create_or_close_newsletters(client: FlaskClient) -> None:
    newsletter = make_newsletter()
    db.session.commit()
    for role in (StaffRole.SUPPORT, StaffRole.FINANCE):
        csrf = _editor(client, role)
        assert client.post("/staff/newsletters", data=_nl_form(csrf)).status_code == 403
        assert client.post(f"/staff/newsletters/{newsletter.id}/active",
                           data={"csrf_token": csrf, "active": "no"}).status_code == 403
    assert [(n.slug, n.active) for n in _newsletters()] == [("daily", True)]


def test_cancel_asks_first_with_the_counts_still_waiting(client: FlaskClient) -> None:
    newsletter = make_newsletter()
    ids = add_readers(newsletter.id, 5)
    campaign = make_campaign(newsletter.id)
    db.session.commit()
    csrf = _editor(client)
    url = f"/staff/newsletters/campaigns/{campaign.id}"

    def status() -> CampaignStatus:
        db.session.expire_all()
        return db.session.get(Campaign, campaign.id).status  # type: ignore[union-attr]

    assert f'href="{url}/cancel">Cancel campaign…</a>' in client.get(url).get_data(as_text=True)
    draft = client.get(f"{url}/cancel")
    assert draft.status_code == 200
    assert "Nobody has received it yet" in draft.get_data(as_text=True)
    assert "5 confirmed subscribers" in draft.get_data(as_text=True)
    unconfirmed = client.post(f"{url}/cancel", data={"csrf_token": csrf})  # not from the confirmation form
    assert unconfirmed.status_code == 200 and "Yes, cancel the campaign" in unconfirmed.get_data(as_text=True)
    assert status() == CampaignStatus.DRAFT

    db.session.execute(db.update(Campaign).where(Campaign.id == campaign.id).values(status=CampaignStatus.PAUSED))
    db.session.add_all(Delivery(campaign_id=campaign.id, reader_id=rid, email=f"r{i}@example.org",
                                status=DeliveryStatus.SENT if i < 2 else DeliveryStatus.PENDING,
                                sent_at=utcnow() if i < 2 else None) for i, rid in enumerate(ids))
    db.session.commit()
    paused = client.get(f"{url}/cancel").get_data(as_text=True)
    assert "3 messages still waiting" in paused and "2 of 5 were sent already" in paused
    done = client.post(f"{url}/cancel", data={"csrf_token": csrf, "confirm": "yes"})
    assert done.status_code == 303 and status() == CampaignStatus.CANCELLED
    assert db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.campaign_id == campaign.id, Delivery.status == DeliveryStatus.SKIPPED)) == 3
    again = client.get(f"{url}/cancel")
    assert again.status_code == 409 and "nothing left to cancel" in again.get_data(as_text=True)
    assert client.post(f"{url}/cancel", data={"csrf_token": csrf, "confirm": "yes"}).status_code == 409
    assert [e.details["status"] for e in _audit("console.campaign_cancel", campaign.id)] == [200, 303, 409]
