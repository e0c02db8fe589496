"""The staff API the console will use: admins only, audited, problem bodies for bad input."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from membership.enums import StaffRole
from membership.extensions import db
from membership.staff.models import AuditLog
from tests.integrations.receiver import Receiver
from tests.staff.helpers import bearer

BASE = "/api/staff/integrations"


def test_only_admins(client: FlaskClient) -> None:
    for role in (StaffRole.FINANCE, StaffRole.EDITOR, StaffRole.SUPPORT):
        headers = bearer(role)
        assert client.get(f"{BASE}/webhook-endpoints", headers=headers).status_code == 403
        res = client.post(f"{BASE}/api-keys", json={"name": "x", "scopes": ["entitlements:read"]}, headers=headers)
        assert res.status_code == 403


def test_keys_endpoints_log_and_replay(app: Flask, client: FlaskClient, admin: dict[str, str],
                                      receiver: Receiver) -> None:
    res = client.post(f"{BASE}/api-keys", json={"name": "site", "scopes": ["entitlements:read"]}, headers=admin)
    assert res.status_code == 201 and res.get_json()["key"].startswith("mk_")
    key_id = res.get_json()["id"]
    assert "key" not in client.get(f"{BASE}/api-keys", headers=admin).get_json()["keys"][0]
    assert client.post(f"{BASE}/api-keys/{key_id}/revoke", headers=admin).get_json()["revoked_at"] is not None
    for bad in ({"name": "y", "scopes": ["root"]}, {"name": "", "scopes": ["entitlements:read"]}, {"name": "z"}):
        assert client.post(f"{BASE}/api-keys", json=bad, headers=admin).status_code == 422

    res = client.post(f"{BASE}/webhook-endpoints", json={"url": receiver.url, "events": ["member.created"]},
                      headers=admin)
    assert res.status_code == 201 and res.get_json()["secret"].startswith("whsec_")
    endpoint_id = res.get_json()["id"]
    for bad in ({"url": "ftp://x.org/h", "events": ["member.created"]}, {"url": receiver.url, "events": ["nope"]},
                {"url": receiver.url, "events": []}):
        assert client.post(f"{BASE}/webhook-endpoints", json=bad, headers=admin).status_code == 422
    assert client.get(f"{BASE}/webhook-endpoints/999999", headers=admin).status_code == 404

    from membership.integrations import delivery
    from tests.factories.readers import ReaderFactory

    reader = ReaderFactory()
    db.session.commit()
    delivery.deliver_line(endpoint_id, reader.id)
    deliveries = client.get(f"{BASE}/webhook-endpoints/{endpoint_id}/deliveries", headers=admin).get_json()
    (row,) = deliveries["deliveries"]
    assert row["status"] == "delivered"
    log = client.get(f"{BASE}/webhook-endpoints/{endpoint_id}/attempts", headers=admin).get_json()["attempts"]
    assert [a["status_code"] for a in log] == [204]
    res = client.post(f"{BASE}/webhook-endpoints/{endpoint_id}/deliveries/{row['id']}/replay", headers=admin)
    assert res.status_code == 200 and res.get_json()["status"] == "pending"
    assert client.post(f"{BASE}/webhook-endpoints/{endpoint_id}/deliveries/{row['id']}/replay",
                       headers=admin).status_code == 409
    delivery.deliver_line(endpoint_id, reader.id)
    assert len(receiver.accepted()) == 2

    res = client.patch(f"{BASE}/webhook-endpoints/{endpoint_id}", json={"enabled": False}, headers=admin)
    assert res.status_code == 200 and res.get_json()["disabled_at"] is not None
    rotated = client.post(f"{BASE}/signing-keys/rotate", headers=admin).get_json()
    assert rotated["current"]["kid"]
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"apikey.create", "apikey.revoke", "webhook_endpoint.add", "webhook_delivery.replay",
            "webhook_endpoint.update", "signing_key.rotate",
            "integrations_staff_api.create_api_key"} <= actions
