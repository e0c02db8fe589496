"""Members > Import members through the test client: a Ghost export with bad rows is
uploaded, its dry run changes nothing and lists each rejected line, the confirmation
imports exactly what the command would (and mails nobody), once; other roles, bad files,
other sessions' and expired uploads, and the body cap are refused with nothing changed."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from membership.billing.models import ComplimentaryMembership
from membership.demo import seed_catalogue
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import Consent, Reader, ReaderLabel
from membership.mail.models import Notice
from membership.newsletters.models import Newsletter, NewsletterSubscription
from membership.readers.importing.models import MemberImport, MemberImportUpload
from membership.staff.models import AuditLog
from tests.console.helpers import sign_in_client, staff_user
from tests.readers.import_support import GhostExport, write_ghost_export

REPORT = re.compile(r"^/staff/members/import/([A-Za-z0-9_-]{43})$")
ROW = re.compile(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>')
MODELS = (Reader, NewsletterSubscription, Consent, ReaderLabel, ComplimentaryMembership, Notice, MemberImport,
          MemberImportUpload)


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__name__: int(db.session.scalar(select(func.count()).select_from(m)) or 0) for m in MODELS}


def upload(client: FlaskClient, csrf: str, body: bytes, source: str = "ghost", column_map: str = "",
           name: str = "ghost-members.csv") -> Any:
    """The form as a browser sends it. Encoded here, as bytes: the test client spools a
    large multipart body to a temporary file it never closes."""
    boundary, data = encode_multipart(MultiDict({
        "csrf_token": csrf, "source": source, "column_map": column_map,
        "file": FileStorage(io.BytesIO(body), name, content_type="text/csv")}))
    return client.post("/staff/members/import", data=data, content_type=f"multipart/form-data; boundary={boundary}")


def uploaded(client: FlaskClient, csrf: str, body: bytes, **kw: Any) -> str:
    """Upload a readable file; the id of its stored upload (from the 303 to its report)."""
    resp = upload(client, csrf, body, **kw)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    found = REPORT.match(resp.headers["Location"])
    assert found, resp.headers["Location"]
    return found.group(1)


def number(html: str, label: str) -> int:
    found = re.search(rf'<th scope="row">{re.escape(label)}[^/]*?</th><td class="num">([\d,]+)</td>', html)
    assert found, label
    return int(found.group(1).replace(",", ""))


def figures(html: str) -> dict[str, int]:
    return {label: number(html, label) for label in (
        "New readers", "Readers updated", "Readers unchanged", "Newsletter opt-ins", "Labels", "Comps",
        "Stripe customers linked", "Rejected lines")}


@pytest.fixture
def admin(client: FlaskClient) -> str:
    seed_catalogue()
    db.session.commit()
    return sign_in_client(client, staff_user(StaffRole.ADMIN, "importer@staff.example"))


@pytest.fixture
def export(tmp_path: Path) -> GhostExport:
    return write_ghost_export(tmp_path / "ghost-members.csv", count=400)


def test_admin_checks_a_ghost_export_then_imports_it_once(
        app: Flask, client: FlaskClient, admin: str, export: GhostExport) -> None:
    body = export.path.read_bytes()
    members = client.get("/staff/members").get_data(as_text=True)
    assert 'href="/staff/members/import">Import members</a>' in members
    form = client.get("/staff/members/import")
    assert form.status_code == 200 and 'for="file">Export file</label>' in form.get_data(as_text=True)
    before = counts()

    upload_id = uploaded(client, admin, body)
    dry = client.get(f"/staff/members/import/{upload_id}")
    html = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "Dry run: ghost-members.csv" in html and "Confirm import" in html
    assert dict(before, MemberImportUpload=1) == counts()  # the dry run changed nothing
    shown = {int(line): reason for line, reason in ROW.findall(html)}
    assert set(shown) == set(export.rejected)  # every bad row, by the line an editor shows
    for line, reason in export.rejected.items():
        assert reason.replace("'", "&#39;") in shown[line], (line, shown[line])
    dry_figures = figures(html)
    subscribed, comped = len(export.subscribed), len(export.comped)
    newsletters = int(db.session.scalar(select(func.count()).select_from(Newsletter).where(Newsletter.active)) or 0)
    assert dry_figures == {
        "New readers": len(export.members), "Readers updated": 0, "Readers unchanged": 0,
        "Newsletter opt-ins": subscribed * newsletters, "Labels": sum(len(m.labels) for m in export.members),
        "Comps": comped, "Stripe customers linked": sum(1 for m in export.members if m.customer),
        "Rejected lines": len(export.rejected)}

    done = client.post(f"/staff/members/import/{upload_id}/confirm", data={"csrf_token": admin})
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Imported: ghost-members.csv" in page
    assert figures(page) == dry_figures  # the confirmation did what the dry run said
    after = counts()
    assert after == dict(before, Reader=len(export.members), NewsletterSubscription=subscribed * newsletters,
                         Consent=subscribed, ReaderLabel=dry_figures["Labels"], ComplimentaryMembership=comped,
                         MemberImport=1)  # Notice: 0, nobody is mailed; the upload is gone
    readers = {r.email: r for r in db.session.scalars(select(Reader))}
    assert {m.email for m in export.members} == set(readers)
    assert all(readers[m.email].stripe_customer_id == m.customer for m in export.members)
    assert {c.source for c in db.session.scalars(select(Consent))} == {"import:ghost"}

    # The command sees the same import: its dry run of the file finds everyone already here.
    cli = app.test_cli_runner().invoke(args=["members", "import", str(export.path), "--from", "ghost", "--dry-run"])
    assert f"readers: 0 new, 0 updated, {len(export.members)} unchanged" in cli.output, cli.output
    assert f"rejected: {len(export.rejected)} rows" in cli.output

    again = client.post(f"/staff/members/import/{upload_id}/confirm", data={"csrf_token": admin})
    assert again.status_code == 404 and "no such upload" in again.get_data(as_text=True).lower()
    assert counts() == after
    second = uploaded(client, admin, body)  # the same file again: idempotent by email
    redo = client.post(f"/staff/members/import/{second}/confirm", data={"csrf_token": admin}).get_data(as_text=True)
    assert figures(redo)["New readers"] == 0 and figures(redo)["Readers unchanged"] == len(export.members)
    assert counts() == dict(after, MemberImport=2)

    runs = db.session.scalars(select(AuditLog).where(AuditLog.action == "members.import")).all()
    assert [(a.actor, a.details["via"], a.details["created"]) for a in runs] == [
        ("importer@staff.example", "console", len(export.members)), ("importer@staff.example", "console", 0)]
    hooked = db.session.scalars(select(AuditLog.action).where(AuditLog.actor == "importer@staff.example",
                                                              AuditLog.action.like("console.import%"))).all()
    assert sorted(hooked) == sorted(["console.import_upload"] * 2 + ["console.import_confirm"] * 3)


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.FINANCE, StaffRole.EDITOR])
def test_other_roles_are_refused(client: FlaskClient, role: StaffRole, export: GhostExport) -> None:
    csrf = sign_in_client(client, staff_user(role))
    before = counts()
    assert client.get("/staff/members/import").status_code == 403
    assert upload(client, csrf, export.path.read_bytes()).status_code == 403
    assert client.post("/staff/members/import/" + "x" * 43 + "/confirm", data={"csrf_token": csrf}).status_code == 403
    if role is not StaffRole.EDITOR:  # editors have no Members area at all
        assert "Import members" not in client.get("/staff/members").get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize(("body", "source", "column_map", "reason"), [
    (b"", "ghost", "", "The file is empty"),
    (b"name,note\nAnn,hello\n", "ghost", "", "no email column in the header"),
    ("email,name\nann@example.org,Ann\n".encode("utf-16"), "ghost", "", "no email column"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb2\x1a\x00\x00[Content_Types].xml", "csv", "",
     "no email column"),
    (b"E-mail,Name\nann@example.org,Ann\n", "csv", "Mail=email", "names columns the file does not have: mail"),
    (b"E-mail,Name\nann@example.org,Ann\n", "csv", "E-mail", "write COLUMN=FIELD"),
    (b"email\nann@example.org\n", "wordpress", "", "Choose whose export this is"),
])
def test_an_unreadable_file_is_a_400_with_the_reason_and_nothing_kept(
        client: FlaskClient, admin: str, body: bytes, source: str, column_map: str, reason: str) -> None:
    before = counts()
    resp = upload(client, admin, body, source=source, column_map=column_map, name="members.csv")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and reason in html, html
    assert 'role="alert"' in html and 'for="file">Export file</label>' in html  # the form again, with the reason
    assert counts() == before


def test_a_missing_file_is_a_400(client: FlaskClient, admin: str) -> None:
    resp = client.post("/staff/members/import", content_type="multipart/form-data",
                       data={"csrf_token": admin, "source": "ghost"})
    assert resp.status_code == 400 and "Choose the export file" in resp.get_data(as_text=True)


def test_a_csv_with_a_column_map(client: FlaskClient, admin: str) -> None:
    body = b"E-mail,Full name,Opted in\nann@example.org,Ann Avetisyan,yes\nBOB@example.org,Bob,no\nnope,X,yes\n"
    upload_id = uploaded(client, admin, body, source="csv", name="exports/sheet.csv",
                         column_map="E-mail=email\r\n\r\nfull name=name\nOpted in=subscribed\n")
    html = client.get(f"/staff/members/import/{upload_id}").get_data(as_text=True)
    assert "Dry run: sheet.csv" in html
    assert figures(html)["New readers"] == 2 and ROW.findall(html) == [("4", "invalid email &#39;nope&#39;")]
    assert "<code>E-mail=email</code>, <code>full name=name</code>" in html
    done = client.post(f"/staff/members/import/{upload_id}/confirm", data={"csrf_token": admin})
    assert done.status_code == 200
    names = dict(db.session.execute(select(Reader.email, Reader.name)).all())
    assert names == {"ann@example.org": "Ann Avetisyan", "bob@example.org": "Bob"}


def test_another_sessions_or_an_expired_upload_is_refused(
        app: Flask, client: FlaskClient, admin: str, export: GhostExport) -> None:
    upload_id = uploaded(client, admin, export.path.read_bytes())
    other = app.test_client()
    other_csrf = sign_in_client(other, staff_user(StaffRole.ADMIN, "another.admin@staff.example"))
    before = counts()
    assert other.get(f"/staff/members/import/{upload_id}").status_code == 404
    assert other.post(f"/staff/members/import/{upload_id}/confirm", data={"csrf_token": other_csrf}).status_code == 404
    assert other.post(f"/staff/members/import/{upload_id}/discard", data={"csrf_token": other_csrf}).status_code == 404
    unknown = client.post("/staff/members/import/" + "A" * 43 + "/confirm", data={"csrf_token": admin})
    assert unknown.status_code == 404
    assert counts() == before

    db.session.execute(update(MemberImportUpload).values(expires_at=func.now() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(f"/staff/members/import/{upload_id}").status_code == 409
    expired = client.post(f"/staff/members/import/{upload_id}/confirm", data={"csrf_token": admin})
    assert expired.status_code == 409 and "expired" in expired.get_data(as_text=True)
    assert counts() == before
    uploaded(client, admin, b"email\nann@example.org\n")  # a new upload clears the expired one
    assert db.session.scalars(select(MemberImportUpload.id)).all() != [upload_id]
    assert counts()["MemberImportUpload"] == 1


def test_discard_forgets_the_upload(client: FlaskClient, admin: str, export: GhostExport) -> None:
    upload_id = uploaded(client, admin, export.path.read_bytes())
    gone = client.post(f"/staff/members/import/{upload_id}/discard", data={"csrf_token": admin})
    assert gone.status_code == 303 and gone.headers["Location"] == "/staff/members/import"
    assert counts()["MemberImportUpload"] == 0
    assert client.post(f"/staff/members/import/{upload_id}/confirm", data={"csrf_token": admin}).status_code == 404
    assert counts()["Reader"] == 0


def test_confirm_needs_the_csrf_token(client: FlaskClient, admin: str, export: GhostExport) -> None:
    upload_id = uploaded(client, admin, export.path.read_bytes())
    assert client.post(f"/staff/members/import/{upload_id}/confirm", data={"csrf_token": "forged"}).status_code == 403
    assert upload(client, "forged", export.path.read_bytes()).status_code == 403
    assert counts()["Reader"] == 0 and counts()["MemberImportUpload"] == 1


def test_the_upload_takes_more_than_the_apps_1_mib_but_not_without_bound(client: FlaskClient, admin: str) -> None:
    padding = "x" * 2500
    body = ("email,name,filler\n" + "".join(f"reader{i}@example.org,Reader {i},{padding}\n"
                                            for i in range(1000))).encode()
    assert len(body) > 2 * 1024 * 1024
    upload_id = uploaded(client, admin, body, source="csv", column_map="filler=note")
    assert figures(client.get(f"/staff/members/import/{upload_id}").get_data(as_text=True))["New readers"] == 1000
    huge = upload(client, admin, b"email\n" + b"a@example.org\n" * (21 * 1024 * 1024 // 14), source="csv")
    assert huge.status_code == 413 and "at most 20971520 bytes" in huge.get_data(as_text=True)
    assert huge.mimetype == "text/html" and "Too large" in huge.get_data(as_text=True)  # the console page
    assert counts()["MemberImportUpload"] == 1
    elsewhere = client.post("/staff/members/1/comps", data={"csrf_token": admin, "reason": "x" * (2 * 1024 * 1024)})
    assert elsewhere.status_code == 413  # other console routes keep the 1 MiB cap


def test_the_commands_dry_run_leaves_nothing_on_sqlite_too(sqlite_app: Flask, tmp_path: Path) -> None:
    """The dry run became a savepoint when the command's logic moved to service.py."""
    path = tmp_path / "m.csv"
    path.write_text("email,name,subscribed_to_emails,labels\nann@example.org,Ann,true,VIP\nbad,,,\n")
    dry = sqlite_app.test_cli_runner().invoke(args=["members", "import", str(path), "--from", "ghost", "--dry-run"])
    assert "readers: 1 new" in dry.output and "line 3: invalid email" in dry.output, dry.output
    assert db.session.scalar(select(func.count()).select_from(Reader)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReaderLabel)) == 0
    real = sqlite_app.test_cli_runner().invoke(args=["members", "import", str(path), "--from", "ghost"])
    assert "readers: 1 new" in real.output and real.output.splitlines()[-1] == "applied", real.output
