"""What an import does to readers who are already here, conflicts that refuse a row
whole, and files that cannot be read at all (the only non-zero exit)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.billing.models import ComplimentaryMembership, Plan
from membership.db import utcnow
from membership.extensions import db
from membership.identity.models import Reader, ReaderLabel
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus

HEADER = "email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,labels,tiers\n"


def ghost(app: Flask, tmp_path: Path, body: str, *extra: str) -> Any:
    path = tmp_path / "members.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["members", "import", str(path), "--from", "ghost", *extra])


def reader(email: str, **kw: Any) -> Reader:
    row = Reader(email=email, name=kw.pop("name", "Here Already"), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def test_existing_readers_keep_what_they_have_and_gain_what_is_new(
        app: Flask, db_session: Any, catalogue: None, tmp_path: Path) -> None:
    daily = db.session.scalar(select(Newsletter).where(Newsletter.slug == "daily"))
    assert daily is not None
    left = reader("left@example.org")
    db.session.add(NewsletterSubscription(reader_id=left.id, newsletter_id=daily.id, status=OptInStatus.UNSUBSCRIBED))
    unlinked = reader("unlinked@example.org")
    comped = reader("comped@example.org")
    plan = db.session.scalar(select(Plan).where(Plan.code == "sustainer"))
    assert plan is not None
    db.session.add(ComplimentaryMembership(reader_id=comped.id, plan_id=plan.id, reason="staff",
                                           expires_at=utcnow() + timedelta(days=30)))
    db_session.commit()

    result = ghost(app, tmp_path,
                   "LEFT@example.org,New Name,,true,false,,,VIP,\n"
                   "unlinked@example.org,,,false,false,cus_Unlinked1,,,\n"
                   "comped@example.org,,,false,true,,,,\n", "--newsletter", "daily")
    assert result.exit_code == 0, result.output
    assert "readers: 0 new, 2 updated, 1 unchanged" in result.output
    db.session.expire_all()
    assert left.name == "Here Already"  # never overwritten
    sub = db.session.scalar(select(NewsletterSubscription).where(NewsletterSubscription.reader_id == left.id))
    assert sub is not None and sub.status == OptInStatus.UNSUBSCRIBED  # an opt-out here wins
    assert db.session.scalar(select(ReaderLabel.label).where(ReaderLabel.reader_id == left.id)) == "VIP"
    assert unlinked.stripe_customer_id == "cus_Unlinked1"
    assert len(db.session.scalars(select(ComplimentaryMembership)
                                  .where(ComplimentaryMembership.reader_id == comped.id)).all()) == 1


def test_stripe_conflicts_refuse_the_whole_row(app: Flask, db_session: Any, catalogue: None, tmp_path: Path) -> None:
    reader("owner@example.org", stripe_customer_id="cus_Owned")
    reader("linked@example.org", stripe_customer_id="cus_Before")
    db_session.commit()
    result = ghost(app, tmp_path,
                   "thief@example.org,T,,true,true,cus_Owned,,VIP,\n"
                   "linked@example.org,L,,true,false,cus_Other,,VIP,\n"
                   "fine@example.org,F,,true,false,cus_Fine,,,\n"
                   "odd@example.org,O,,true,false,acct_123,,,\n")
    assert result.exit_code == 0, result.output
    assert "line 2: Stripe customer cus_Owned is linked to another reader" in result.output
    assert "line 3: the reader is already linked to Stripe customer cus_Before" in result.output
    assert "line 5: 'acct_123' is not a Stripe customer id (cus_...)" in result.output
    assert db.session.scalar(select(Reader).where(Reader.email == "thief@example.org")) is None
    linked = db.session.scalar(select(Reader).where(Reader.email == "linked@example.org"))
    assert linked is not None and linked.stripe_customer_id == "cus_Before"
    assert db.session.scalars(select(ReaderLabel)).all() == []  # nothing of a refused row is applied
    assert db.session.scalars(select(NewsletterSubscription)).all() != []  # the good row was


def test_no_comp_plan_refuses_the_complimentary_rows(app: Flask, db_session: Any, tmp_path: Path) -> None:
    result = ghost(app, tmp_path, "free@example.org,,,false,false,,,,\ncomp@example.org,,,false,true,,,,\n")
    assert result.exit_code == 0, result.output
    assert "line 3: complimentary, but there is no membership plan to comp" in result.output
    assert "readers: 1 new" in result.output


def test_a_comp_plan_and_length_can_be_chosen(app: Flask, db_session: Any, catalogue: None, tmp_path: Path) -> None:
    result = ghost(app, tmp_path, "comp@example.org,,,false,true,,,,\n", "--comp-plan", "sustainer",
                   "--comp-months", "3")
    assert result.exit_code == 0, result.output
    comp = db.session.scalars(select(ComplimentaryMembership)).one()
    assert db.session.get(Plan, comp.plan_id).code == "sustainer"  # type: ignore[union-attr]
    assert abs(comp.expires_at - (utcnow() + timedelta(days=91))) < timedelta(days=1)


def test_files_that_cannot_be_read_exit_non_zero(app: Flask, db_session: Any, tmp_path: Path) -> None:
    runner = app.test_cli_runner()

    def status(path: Path, *extra: str) -> int:
        return runner.invoke(args=["members", "import", str(path), "--from", "ghost", *extra]).exit_code

    assert status(tmp_path / "missing.csv") != 0
    (tmp_path / "empty.csv").write_text("")
    assert status(tmp_path / "empty.csv") != 0
    (tmp_path / "no-email.csv").write_text("name,note\nAda,hi\n")
    assert status(tmp_path / "no-email.csv") != 0
    (tmp_path / "ok.csv").write_text(HEADER)
    assert status(tmp_path / "ok.csv") == 0
    assert status(tmp_path / "ok.csv", "--newsletter", "no-such") != 0
    assert status(tmp_path / "ok.csv", "--map", "nope=email") != 0


def test_only_bad_rows_still_exit_zero(app: Flask, db_session: Any, tmp_path: Path) -> None:
    result = ghost(app, tmp_path, ",No Address,,,,,,,\n,,,,,,,,\n\nnope,,,,,,,,\n")
    assert result.exit_code == 0, result.output
    assert "line 2: empty email" in result.output and "line 5: invalid email 'nope'" in result.output
    assert "2 data rows" in result.output  # a row of empty cells, like a blank line, is no row


def test_the_embedded_sqlite_default_imports_too(sqlite_app: Flask, tmp_path: Path) -> None:
    from membership.demo import seed_catalogue
    from membership.unit_of_work import unit_of_work

    with unit_of_work():
        seed_catalogue()
    body = "a@example.org,Ann,,true,true,cus_Sqlite1,2020-01-01T00:00:00Z,\"VIP, print\",Gold\nbad,,,,,,,,\n"
    first = ghost(sqlite_app, tmp_path, body)
    assert first.exit_code == 0, first.output
    assert "readers: 1 new" in first.output and "line 3: invalid email 'bad'" in first.output
    assert "opt-ins: 3 (consents recorded: 1), labels: 3, comps: 1, Stripe customers linked: 1" in first.output
    again = ghost(sqlite_app, tmp_path, body)
    assert "readers: 0 new, 0 updated, 1 unchanged" in again.output
