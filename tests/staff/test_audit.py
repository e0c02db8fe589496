"""The audit log through HTTP: every staff write and export (refused ones too) is an
entry; admins read them at /api/staff/audit, newest first, filtered and paged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from membership.db import utcnow
from membership.enums import StaffRole
from tests.staff.helpers import bearer

AUDIT = "/api/staff/audit"
DONORS_CSV = "/api/staff/reports/donors?start=2026-01-01&end=2027-01-01&format=csv"


def _entries(client: Any, admin: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    resp = client.get(f"{AUDIT}?{query}", headers=admin)
    assert resp.status_code == 200, resp.get_json()
    return list(resp.get_json()["entries"])


def test_a_write_an_export_and_a_refused_write_are_in_the_log(client: Any, db_session: Any) -> None:
    admin = bearer(StaffRole.ADMIN, "boss@example.org")
    editor = bearer(StaffRole.EDITOR, "ed@example.org")
    finance = bearer(StaffRole.FINANCE, "fin@example.org")
    created = client.post("/api/staff/newsletters", json={"slug": "audited", "name": "Audited"}, headers=editor)
    assert created.status_code == 201
    assert client.get(DONORS_CSV, headers=finance).status_code == 200
    assert client.post("/api/staff/newsletters", json={"slug": "x", "name": "X"}, headers=finance).status_code == 403
    assert client.get("/api/staff/newsletters", headers=editor).status_code == 200  # a read: not audited

    denied, export, write = _entries(client, admin)[:3]
    assert (write["actor"], write["action"]) == ("ed@example.org", "newsletters_staff_api.create_newsletter")
    assert write["details"]["status"] == 201 and write["details"]["result_id"] == created.get_json()["id"]
    assert write["details"]["method"] == "POST" and write["target_id"] == "/api/staff/newsletters"
    assert (export["actor"], export["action"]) == ("fin@example.org", "reports_api.donor_report")
    assert export["details"]["export"] is True and export["details"]["report"] == "donors/1"
    assert export["details"]["query"] == {"start": "2026-01-01", "end": "2027-01-01", "format": "csv"}
    assert (denied["actor"], denied["details"]["status"]) == ("fin@example.org", 403)
    assert write["at"] <= export["at"] <= denied["at"]


def test_support_export_attempt_and_path_targets_are_recorded(client: Any, db_session: Any) -> None:
    admin = bearer(StaffRole.ADMIN)
    assert client.get(DONORS_CSV, headers=bearer(StaffRole.SUPPORT, "help@example.org")).status_code == 403
    assert client.post("/api/staff/comps/999999/revoke", headers=admin).status_code == 404
    revoke, attempt = _entries(client, admin)[:2]
    assert (attempt["actor"], attempt["details"]["status"], attempt["details"]["export"]) == (
        "help@example.org", 403, True)
    assert (revoke["target_type"], revoke["target_id"], revoke["details"]["status"]) == ("comp", "999999", 404)


def test_admin_only_filters_and_paging(client: Any, db_session: Any) -> None:
    admin = bearer(StaffRole.ADMIN, "root@example.org")
    editor = bearer(StaffRole.EDITOR, "pager@example.org")
    since = utcnow()
    for n in range(5):
        client.post("/api/staff/newsletters", json={"slug": f"page-{n}", "name": f"N{n}"}, headers=editor)
    assert client.get(AUDIT, headers=editor).status_code == 403
    assert client.get(AUDIT).status_code == 401

    mine = _entries(client, admin, "actor=PAGER@example.org")
    assert len(mine) == 5 and [e["id"] for e in mine] == sorted((e["id"] for e in mine), reverse=True)
    first = client.get(f"{AUDIT}?actor=pager@example.org&limit=2", headers=admin).get_json()
    assert first["count"] == 2 and first["next_before_id"] == first["entries"][-1]["id"]
    second = client.get(f"{AUDIT}?actor=pager@example.org&limit=2&before_id={first['next_before_id']}",
                        headers=admin).get_json()
    third = client.get(f"{AUDIT}?actor=pager@example.org&limit=2&before_id={second['next_before_id']}",
                       headers=admin).get_json()
    assert [e["id"] for e in first["entries"] + second["entries"] + third["entries"]] == [e["id"] for e in mine]
    assert third["next_before_id"] is None
    assert len(_entries(client, admin, "action=newsletters_staff_api.create_newsletter&actor=pager@example.org")) == 5
    assert _entries(client, admin, "action=newsletters_staff_api.create_campaign&actor=pager@example.org") == []
    assert len(_entries(client, admin, f"since={quote(since.isoformat())}&actor=pager@example.org")) == 5
    later = quote((utcnow() + timedelta(hours=1)).isoformat())
    assert _entries(client, admin, f"since={later}") == []
    for bad in ("since=2026-01-01T00:00:00", "since=yesterday", "limit=0", "limit=501", "before_id=0", "colour=red"):
        resp = client.get(f"{AUDIT}?{bad}", headers=admin)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", bad


def test_the_audit_operation_is_documented(client: Any, db_session: Any) -> None:
    op = client.get("/api/openapi.json").get_json()["paths"]["/api/staff/audit"]["get"]
    assert op["security"] == [{"staff.audit.read": []}]
    assert {"200", "401", "403", "422"} <= set(op["responses"])
    assert {p["name"] for p in op["parameters"]} == {"actor", "action", "since", "before_id", "limit"}


def test_a_query_with_a_nul_character_is_audited_not_a_500(client: Any) -> None:
    from sqlalchemy import select

    from membership.extensions import db
    from membership.staff.models import AuditLog

    res = client.get("/api/staff/reports/cash-summary?start=2026-01-01&end=2026-02-01&format=csv&x=a%00b",
                     headers=bearer(StaffRole.FINANCE))
    assert res.status_code < 500
    entry = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert entry is not None and entry.details["query"]["x"] == "a\ufffdb"
