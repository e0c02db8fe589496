"""The staff API: bearer auth, create, schedule, pause/resume/cancel as one state machine."""

from __future__ import annotations

from typing import Any

from membership.extensions import db
from membership.newsletters.models import Campaign, CampaignStatus
from tests.newsletters.conftest import make_newsletter


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_staff_token_required(client: Any) -> None:
    assert client.get("/api/staff/newsletters").status_code == 401
    response = client.post("/api/staff/campaigns", json={}, headers=_auth("stf_wrong"))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_create_validate_and_walk_the_state_machine(client: Any, staff_token: str) -> None:
    newsletter = make_newsletter()
    db.session.commit()  # a refused request rolls back what is uncommitted
    bad = client.post("/api/staff/campaigns", json={"newsletter_id": newsletter.id}, headers=_auth(staff_token))
    assert bad.status_code == 422
    assert client.post("/api/staff/campaigns", json=[1], headers=_auth(staff_token)).status_code == 422
    tier = client.post("/api/staff/campaigns", headers=_auth(staff_token), json={
        "newsletter_id": newsletter.id, "subject": "S", "body_html": "<p>x</p>", "segment": "tier"})
    assert tier.status_code == 422
    created = client.post("/api/staff/campaigns", headers=_auth(staff_token), json={
        "newsletter_id": newsletter.id, "subject": "Weekend", "body_html": "<p>Hi</p>"})
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    assert created.get_json()["status"] == "draft"

    def post(action: str, **body: Any) -> Any:
        return client.post(f"/api/staff/campaigns/{cid}/{action}", json=body, headers=_auth(staff_token))

    assert post("pause").status_code == 409  # a draft is not sending
    scheduled = post("schedule", scheduled_at="2099-01-01T08:00:00+00:00")
    assert scheduled.status_code == 200 and scheduled.get_json()["status"] == "scheduled"
    assert post("schedule", scheduled_at="2099-01-01T08:00:00").status_code == 422  # naive time
    assert post("unschedule").get_json()["status"] == "draft"
    db.session.execute(db.update(Campaign).where(Campaign.id == cid).values(status=CampaignStatus.SENDING))
    assert post("pause").get_json()["status"] == "paused"
    assert post("pause").status_code == 409
    assert post("resume").get_json()["status"] == "sending"
    cancelled = post("cancel")
    assert cancelled.get_json()["status"] == "cancelled"
    assert post("resume").status_code == 409
    status = client.get(f"/api/staff/campaigns/{cid}", headers=_auth(staff_token)).get_json()
    assert status["status"] == "cancelled" and status["deliveries"]["sent"] == 0
    assert client.get("/api/staff/campaigns/999999", headers=_auth(staff_token)).status_code == 404
