"""`flask members import PATH --from ghost`: a Ghost export of a few thousand members with
every kind of column and some bad rows, imported through the real command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from membership.billing.models import ComplimentaryMembership, Plan
from membership.db import utcnow
from membership.extensions import db
from membership.identity.models import Consent, ConsentKind, Reader, ReaderLabel
from membership.mail.models import Notice
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus
from membership.readers.importing.models import MemberImport
from tests.readers.import_support import GhostExport, write_ghost_export


def run(app: Flask, path: Path, *extra: str) -> Any:
    return app.test_cli_runner().invoke(args=["members", "import", str(path), "--from", "ghost", *extra])


def counts() -> dict[str, int]:
    return {model.__name__: int(db.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Reader, NewsletterSubscription, Consent, ReaderLabel, ComplimentaryMembership, Notice)}


@pytest.fixture
def export(tmp_path: Path) -> GhostExport:
    return write_ghost_export(tmp_path / "ghost-members.csv")


def test_a_ghost_export_becomes_readers_opt_ins_labels_comps_and_links(
        app: Flask, db_session: Any, catalogue: None, export: GhostExport) -> None:
    result = run(app, export.path)
    assert result.exit_code == 0, result.output
    members = export.members
    newsletters = db.session.scalar(select(func.count()).select_from(Newsletter).where(Newsletter.active))
    assert f"readers: {len(members)} new, 0 updated, 0 unchanged" in result.output
    assert f"rejected: {len(export.rejected)} rows:" in result.output
    reported = {int(line.split(":")[0][5:]): line for line in result.output.splitlines() if line.startswith("line ")}
    assert set(reported) == set(export.rejected)
    for number, reason in export.rejected.items():
        assert reason in reported[number], reported[number]
    assert "ignored columns: id, deleted_at" in result.output

    got = {r.email: r for r in db.session.scalars(select(Reader))}
    assert set(got) == {m.email for m in members}
    for m in members[:200]:
        reader = got[m.email]
        assert (reader.name, reader.note, reader.created_at) == (m.name.strip(), m.note, m.created_at)
        assert reader.stripe_customer_id == m.customer
    labels = {(rid, label) for rid, label in db.session.execute(select(ReaderLabel.reader_id, ReaderLabel.label))}
    assert labels == {(got[m.email].id, label) for m in members for label in m.labels}

    subs = db.session.execute(select(NewsletterSubscription.reader_id, NewsletterSubscription.status,
                                     NewsletterSubscription.source, NewsletterSubscription.confirmed_at)).all()
    assert len(subs) == len(export.subscribed) * newsletters
    by_id = {got[m.email].id: m for m in members}
    assert all(status == OptInStatus.CONFIRMED and source == "import:ghost" and at == by_id[rid].created_at
               for rid, status, source, at in subs)
    consents = db.session.scalars(select(Consent)).all()
    assert len(consents) == len(export.subscribed)
    assert all(c.kind == ConsentKind.NEWSLETTER and c.source == "import:ghost" and c.text_version == "import"
               and c.created_at == by_id[c.reader_id].created_at and c.ip is None for c in consents)

    comps = db.session.scalars(select(ComplimentaryMembership)).all()
    assert {c.reader_id for c in comps} == {got[m.email].id for m in export.comped}
    member_plan = db.session.scalar(select(Plan.id).where(Plan.code == "member"))
    year = utcnow() + timedelta(days=365)
    assert all(c.plan_id == member_plan and c.reason == "import:ghost" and c.granted_by_staff_id is None
               and abs(c.expires_at - year) < timedelta(days=2) for c in comps)

    assert counts()["Notice"] == 0  # nobody is mailed because of an import
    run_row = db.session.scalars(select(MemberImport)).one()
    assert (run_row.readers_created, run_row.rejected, len(run_row.file_sha256)) == (
        len(members), len(export.rejected), 64)


def test_a_second_run_changes_nothing(app: Flask, db_session: Any, catalogue: None, export: GhostExport) -> None:
    assert run(app, export.path).exit_code == 0
    before = counts()
    again = run(app, export.path)
    assert again.exit_code == 0, again.output
    assert f"readers: 0 new, 0 updated, {len(export.members)} unchanged" in again.output
    assert "newsletter opt-ins: 0 (consents recorded: 0), labels: 0, comps: 0, Stripe customers linked: 0" \
        in again.output
    assert counts() == before


def test_a_dry_run_prints_the_same_report_and_changes_nothing(
        app: Flask, db_session: Any, catalogue: None, export: GhostExport) -> None:
    before = counts()
    dry = run(app, export.path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert counts() == before
    assert db.session.scalar(select(func.count()).select_from(MemberImport)) == 0
    real = run(app, export.path)
    assert dry.output.splitlines()[:-1] == real.output.splitlines()[:-1]
    assert dry.output.splitlines()[-1] == "dry run: nothing was changed"
    assert real.output.splitlines()[-1] == "applied"
