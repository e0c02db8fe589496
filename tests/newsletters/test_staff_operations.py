"""The staff newsletter API on the operation registry: documented, strict, editors and
admins only (a finance token no longer sends), and answering with the same JSON as before the move."""

from __future__ import annotations

from typing import Any

import pytest

from membership.db import utcnow
from membership.enums import StaffRole
from membership.extensions import db
from membership.newsletters.models import CampaignStatus
from membership.staff.services import create_staff_user
from tests.newsletters.conftest import make_campaign, make_newsletter

ACTIONS = ("unschedule", "pause", "resume", "cancel")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_operation_is_in_the_document_behind_the_newsletter_permissions(client: Any) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    expected = {("/api/staff/newsletters", "get"), ("/api/staff/newsletters", "post"),
                ("/api/staff/campaigns", "post"), ("/api/staff/campaigns/{campaign_id}", "get"),
                ("/api/staff/campaigns/{campaign_id}/schedule", "post")}
    expected |= {(f"/api/staff/campaigns/{{campaign_id}}/{a}", "post") for a in ACTIONS}
    for path, method in expected:
        op = paths[path][method]
        scheme = "staff.newsletters.read" if method == "get" else "staff.newsletters.write"
        assert op["security"] == [{scheme: []}], (path, method)
        assert {"401", "403"} <= set(op["responses"]), (path, method)
    for action in (*ACTIONS, "schedule"):
        assert {"404", "409"} <= set(paths[f"/api/staff/campaigns/{{campaign_id}}/{action}"]["post"]["responses"])
    assert "409" in paths["/api/staff/newsletters"]["post"]["responses"]
    assert "404" in paths["/api/staff/campaigns"]["post"]["responses"]
    assert "/u/{token}" not in paths and "/webhooks/mail-events" not in paths  # not JSON-API operations


def test_requests_are_strict(client: Any, staff_token: str) -> None:
    newsletter = make_newsletter()
    db.session.commit()
    auth = _auth(staff_token)
    base = {"newsletter_id": newsletter.id, "subject": "S", "body_html": "<p>x</p>"}
    assert client.post("/api/staff/campaigns", json={**base, "newsletter_id": str(newsletter.id)},
                       headers=auth).status_code == 422  # "5" is not 5
    assert client.post("/api/staff/campaigns", json={**base, "colour": "red"}, headers=auth).status_code == 422
    assert client.post("/api/staff/campaigns", json={**base, "newsletter_id": 2**63},
                       headers=auth).status_code == 422  # beyond BIGINT
    assert client.post("/api/staff/newsletters", json={"slug": "Bad Slug", "name": "x"},
                       headers=auth).status_code == 422
    assert client.post("/api/staff/campaigns", data="{}", headers=auth).status_code == 415


def test_dangling_references_are_404_and_taken_slugs_409(client: Any, staff_token: str) -> None:
    newsletter = make_newsletter()
    db.session.commit()
    auth = _auth(staff_token)
    tier = client.post("/api/staff/campaigns", headers=auth, json={
        "newsletter_id": newsletter.id, "subject": "S", "body_html": "<p>x</p>", "segment": "tier",
        "segment_plan_id": 2**62})
    assert tier.status_code == 404 and tier.mimetype == "application/problem+json"
    assert client.post("/api/staff/campaigns", headers=auth, json={
        "newsletter_id": 2**62, "subject": "S", "body_html": "<p>x</p>"}).status_code == 404
    again = client.post("/api/staff/newsletters", json={"slug": newsletter.slug, "name": "Again"}, headers=auth)
    assert again.status_code == 409


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                  "2099-01-01T08:00:00"])
def test_schedule_refuses_unstorable_or_naive_times(client: Any, staff_token: str, when: str) -> None:
    campaign = make_campaign(make_newsletter().id)
    db.session.commit()
    answer = client.post(f"/api/staff/campaigns/{campaign.id}/schedule", json={"scheduled_at": when},
                         headers=_auth(staff_token))
    assert answer.status_code == 422
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.DRAFT


def test_answers_keep_their_shape(client: Any, staff_token: str) -> None:
    auth = _auth(staff_token)
    created = client.post("/api/staff/newsletters", json={"slug": "weekly", "name": "Weekly"}, headers=auth)
    assert created.status_code == 201
    assert set(created.get_json()) == {"id", "slug", "name"}
    listed = client.get("/api/staff/newsletters", headers=auth).get_json()
    assert listed["data"] == [{"id": created.get_json()["id"], "slug": "weekly", "name": "Weekly", "active": True}]
    campaign = client.post("/api/staff/campaigns", headers=auth, json={
        "newsletter_id": created.get_json()["id"], "subject": "S", "body_html": "<p>x</p>"}).get_json()
    scheduled = client.post(f"/api/staff/campaigns/{campaign['id']}/schedule",
                            json={"scheduled_at": "2099-01-01T09:00:00+01:00"}, headers=auth).get_json()
    assert scheduled["scheduled_at"] == "2099-01-01T08:00:00+00:00"  # isoformat, as before (not "Z")
    assert scheduled["deliveries"] == {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert set(scheduled) == {"id", "newsletter_id", "subject", "segment", "segment_plan_id", "status",
                              "scheduled_at", "started_at", "finished_at", "deliveries"}
    assert scheduled["segment"] == "all_confirmed" and scheduled["status"] == "scheduled"


def test_schedule_now_needs_a_json_body(client: Any, staff_token: str) -> None:
    """Behaviour change of the move: an empty POST was "schedule now"; now send `{}`."""
    campaign = make_campaign(make_newsletter().id)
    db.session.commit()
    url = f"/api/staff/campaigns/{campaign.id}/schedule"
    assert client.post(url, headers=_auth(staff_token)).status_code == 415
    now = client.post(url, json={}, headers=_auth(staff_token)).get_json()
    assert now["status"] == "scheduled"
    assert now["scheduled_at"] <= utcnow().isoformat()


def test_an_editor_runs_campaigns_and_a_finance_token_cannot(client: Any) -> None:
    """Editors (and admins) hold newsletters:write; finance and support are refused with
    a 403 problem naming the permission, and the campaign is untouched."""
    _, finance = create_staff_user("finance@example.org", StaffRole.FINANCE)
    _, support = create_staff_user("support@example.org", StaffRole.SUPPORT)
    _, token = create_staff_user("desk-editor@example.org", StaffRole.EDITOR)
    campaign = make_campaign(make_newsletter().id, CampaignStatus.SENDING)
    db.session.commit()
    for refused in (finance, support):
        assert client.get("/api/staff/newsletters", headers=_auth(refused)).status_code == 403
        for action in ("pause", "cancel", "resume"):
            denied = client.post(f"/api/staff/campaigns/{campaign.id}/{action}", headers=_auth(refused))
            assert denied.status_code == 403 and denied.mimetype == "application/problem+json", action
            assert denied.get_json()["permission"] == "newsletters:write"
    assert client.get(f"/api/staff/campaigns/{campaign.id}", headers=_auth(token)).get_json()["status"] == "sending"
    assert client.get("/api/staff/newsletters", headers=_auth(token)).status_code == 200
    assert client.post(f"/api/staff/campaigns/{campaign.id}/pause", headers=_auth(token)).status_code == 200
    assert client.post(f"/api/staff/campaigns/{campaign.id}/cancel", headers=_auth(token)).status_code == 200
    assert client.post(f"/api/staff/campaigns/{campaign.id}/resume", headers=_auth(token)).status_code == 409
