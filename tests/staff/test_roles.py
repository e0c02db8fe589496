"""Roles through HTTP: each role reaches what the issue gives it and gets a 403 problem
(naming the permission) elsewhere; every staff operation is guarded by a permission."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from membership.api import REGISTRY
from membership.db import utcnow
from membership.demo import seed_catalogue
from membership.enums import StaffRole
from membership.extensions import db
from membership.newsletters.models import Newsletter
from membership.staff.roles import PERMISSIONS, ROLE_PERMISSIONS, allows, check_permission, roles_with
from tests.factories.readers import ReaderFactory
from tests.staff.helpers import bearer

NEWSLETTER = {"slug": "morning-brief", "name": "Morning brief"}
DONORS_CSV = "/api/staff/reports/donors?start=2026-01-01&end=2027-01-01&format=csv"


def _forbidden(resp: Any, permission: str) -> None:
    assert resp.status_code == 403, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["permission"] == permission


def test_the_table_gives_each_role_what_the_issue_says() -> None:
    assert ROLE_PERMISSIONS[StaffRole.ADMIN] == frozenset(PERMISSIONS)
    assert roles_with("newsletters:write") == [StaffRole.ADMIN, StaffRole.EDITOR]
    assert roles_with("exports:download") == [StaffRole.ADMIN, StaffRole.FINANCE]
    assert roles_with("comps:write") == [StaffRole.ADMIN, StaffRole.SUPPORT]
    assert roles_with("links:resend") == [StaffRole.ADMIN, StaffRole.SUPPORT]
    assert roles_with("members:read") == [StaffRole.ADMIN, StaffRole.FINANCE, StaffRole.SUPPORT]
    assert roles_with("reports:read") == [StaffRole.ADMIN, StaffRole.FINANCE]
    assert roles_with("inbox:read") == list(StaffRole)
    assert roles_with("inbox:replay") == roles_with("audit:read") == [StaffRole.ADMIN]
    assert not allows(StaffRole.FINANCE, "newsletters:write") and not allows(StaffRole.SUPPORT, "exports:download")
    with pytest.raises(ValueError, match="unknown staff permission"):
        check_permission("newsletter:write")


def test_every_staff_operation_names_a_permission(client: Any) -> None:
    """A new route under /api/staff cannot be left open or on a role-blind guard."""
    staff_ops = [op for op in REGISTRY.operations if op.path.startswith("/api/staff/")]
    assert len(staff_ops) >= 25
    for op in staff_ops:
        assert op.security is not None and op.security.startswith("staff."), (op.method, op.path)
    schemes = client.get("/api/openapi.json").get_json()["components"]["securitySchemes"]
    assert "staffBearerAnyRole" not in schemes and "staffBearer" not in schemes
    assert "(admin, editor)" in schemes["staff.newsletters.write"]["description"]


def test_finance_cannot_create_newsletters_or_campaigns_and_an_editor_can(client: Any, db_session: Any) -> None:
    finance, editor = bearer(StaffRole.FINANCE), bearer(StaffRole.EDITOR)
    _forbidden(client.post("/api/staff/newsletters", json=NEWSLETTER, headers=finance), "newsletters:write")
    created = client.post("/api/staff/newsletters", json=NEWSLETTER, headers=editor)
    assert created.status_code == 201
    campaign = {"newsletter_id": created.get_json()["id"], "subject": "Hello", "body_html": "<p>Hi</p>"}
    _forbidden(client.post("/api/staff/campaigns", json=campaign, headers=finance), "newsletters:write")
    _forbidden(client.post("/api/staff/campaigns", json=campaign, headers=bearer(StaffRole.SUPPORT)),
               "newsletters:write")
    draft = client.post("/api/staff/campaigns", json=campaign, headers=editor)
    assert draft.status_code == 201
    _forbidden(client.post(f"/api/staff/campaigns/{draft.get_json()['id']}/schedule", json={}, headers=finance),
               "newsletters:write")
    assert client.get(f"/api/staff/campaigns/{draft.get_json()['id']}", headers=editor).get_json()["status"] == "draft"
    assert db.session.query(Newsletter).filter_by(slug="morning-brief").count() == 1


def test_reports_and_exports_are_finance_and_admin(client: Any, db_session: Any) -> None:
    for role in (StaffRole.FINANCE, StaffRole.ADMIN):
        assert client.get(DONORS_CSV, headers=bearer(role)).mimetype == "text/csv"
    for role in (StaffRole.SUPPORT, StaffRole.EDITOR):
        _forbidden(client.get(DONORS_CSV, headers=bearer(role)), "reports:read")
        _forbidden(client.get(DONORS_CSV.replace("&format=csv", ""), headers=bearer(role)), "reports:read")


def test_support_grants_comps_and_reads_members_finance_only_reads(client: Any, db_session: Any) -> None:
    seed_catalogue()
    reader = ReaderFactory()
    db.session.commit()
    body = {"reader_id": reader.id, "plan": "member",
            "expires_at": (utcnow() + timedelta(days=30)).isoformat()}
    support, finance = bearer(StaffRole.SUPPORT), bearer(StaffRole.FINANCE)
    _forbidden(client.post("/api/staff/comps", json=body, headers=finance), "comps:write")
    _forbidden(client.post("/api/staff/comps", json=body, headers=bearer(StaffRole.EDITOR)), "comps:write")
    granted = client.post("/api/staff/comps", json=body, headers=support)
    assert granted.status_code == 201, granted.get_json()
    for token in (support, finance):
        listed = client.get(f"/api/staff/comps?reader_id={reader.id}", headers=token)
        assert [c["id"] for c in listed.get_json()["comps"]] == [granted.get_json()["id"]]
        assert client.get("/api/staff/gifts", headers=token).status_code == 200
    _forbidden(client.get("/api/staff/gifts", headers=bearer(StaffRole.EDITOR)), "members:read")
    assert client.post(f"/api/staff/comps/{granted.get_json()['id']}/revoke", headers=support).status_code == 200


def test_inbox_for_every_role_replay_and_audit_for_admin_notices_not_for_editors(client: Any,
                                                                                 db_session: Any) -> None:
    for role in StaffRole:
        assert client.get("/api/staff/webhook-events", headers=bearer(role)).status_code == 200, role
    for role in (StaffRole.FINANCE, StaffRole.EDITOR, StaffRole.SUPPORT):
        _forbidden(client.post("/api/staff/webhook-events/1/replay", headers=bearer(role)), "inbox:replay")
        _forbidden(client.get("/api/staff/audit", headers=bearer(role)), "audit:read")
    for role in (StaffRole.FINANCE, StaffRole.SUPPORT, StaffRole.ADMIN):
        assert client.get("/api/staff/notice-alerts", headers=bearer(role)).status_code == 200, role
    _forbidden(client.get("/api/staff/notice-alerts", headers=bearer(StaffRole.EDITOR)), "notices:read")
