"""Substack's and Mailchimp's exports, any CSV with `--map`, and how lines are counted."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.billing.models import ComplimentaryMembership
from membership.extensions import db
from membership.identity.models import Consent, Reader, ReaderLabel
from membership.newsletters.models import NewsletterSubscription
from membership.readers.importing.formats import GHOST, MAILCHIMP
from membership.readers.importing.parse import parse_bytes, parse_text


def run(app: Flask, tmp_path: Path, source: str, text: str, *extra: str) -> Any:
    path = tmp_path / f"{source}.csv"
    path.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["members", "import", str(path), "--from", source, *extra])
    assert result.exit_code == 0, result.output
    return result


def labels_of(email: str) -> set[str]:
    return set(db.session.scalars(select(ReaderLabel.label).join(Reader, Reader.id == ReaderLabel.reader_id)
                                  .where(Reader.email == email)))


def subscriptions_of(email: str) -> list[NewsletterSubscription]:
    return list(db.session.scalars(select(NewsletterSubscription).join(
        Reader, Reader.id == NewsletterSubscription.reader_id).where(Reader.email == email)))


def test_substack_email_list(app: Flask, db_session: Any, catalogue: None, tmp_path: Path) -> None:
    run(app, tmp_path, "substack",
        "email,active_subscription,expiry,plan,email_disabled,created_at\n"
        "paid@example.org,true,,paid,false,2022-01-05T10:00:00.000Z\n"
        "comp@example.org,true,2031-01-01T00:00:00.000Z,comp,false,2022-02-05T10:00:00.000Z\n"
        "quiet@example.org,false,,free,true,2022-03-05T10:00:00.000Z\n", "--newsletter", "weekly")
    assert labels_of("paid@example.org") == {"plan:paid"}
    [sub] = subscriptions_of("paid@example.org")
    assert sub.source == "import:substack" and sub.confirmed_at == datetime(2022, 1, 5, 10, tzinfo=UTC)
    assert subscriptions_of("quiet@example.org") == []  # email_disabled: no opt-in
    comp = db.session.scalars(select(ComplimentaryMembership)).one()
    assert comp.expires_at == datetime(2031, 1, 1, tzinfo=UTC)


MAILCHIMP_HEADER = ('"Email Address","First Name","Last Name","Address","Phone Number","MEMBER_RATING",'
                    '"OPTIN_TIME","OPTIN_IP","CONFIRM_TIME","CONFIRM_IP","LATITUDE","LONGITUDE","GMTOFF",'
                    '"DSTOFF","TIMEZONE","CC","REGION","LAST_CHANGED","LEID","EUID","NOTES","TAGS"\n')


def test_mailchimp_audience_export(app: Flask, db_session: Any, catalogue: None, tmp_path: Path) -> None:
    row = ('"Grace@Example.org","Grace","Hopper","","","2","2019-03-01 08:00:00","203.0.113.9",'
           '"2019-03-01 08:05:00","203.0.113.9","","","","","","","","2020-01-01 00:00:00","1","abc",'
           '"met at a talk","""Donor"",""Events"""\n')
    result = run(app, tmp_path, "mailchimp", MAILCHIMP_HEADER + row, "--newsletter", "daily")
    assert "readers: 1 new" in result.output
    grace = db.session.scalar(select(Reader).where(Reader.email == "grace@example.org"))
    assert grace is not None and (grace.name, grace.note) == ("Grace Hopper", "met at a talk")
    assert grace.created_at == datetime(2019, 3, 1, 8, tzinfo=UTC)
    assert labels_of("grace@example.org") == {"Donor", "Events"}
    [sub] = subscriptions_of("grace@example.org")
    assert sub.confirmed_at == datetime(2019, 3, 1, 8, 5, tzinfo=UTC)  # the confirmation time
    consent = db.session.scalars(select(Consent).where(Consent.reader_id == grace.id)).one()
    assert consent.source == "import:mailchimp" and consent.created_at == sub.confirmed_at


def test_any_csv_with_a_column_map(app: Flask, db_session: Any, catalogue: None, tmp_path: Path) -> None:
    ok = run(app, tmp_path, "csv", "Mail,Full name,Opted in,Since,labels\n"
             "x@example.org,Xavier,yes,2020-05-01,\"a, b\"\nnot-mail,Y,maybe,,\n",
             "--map", "mail=email", "--map", "Full name=name", "--map", "opted in=subscribed",
             "--map", "since=subscribed_at")
    assert "readers: 1 new" in ok.output, ok.output
    assert "line 3: invalid email 'not-mail'" in ok.output
    assert labels_of("x@example.org") == {"a", "b"}
    assert subscriptions_of("x@example.org")[0].confirmed_at == datetime(2020, 5, 1, tzinfo=UTC)


def test_line_numbers_are_an_editors_even_with_cells_over_several_lines() -> None:
    text = ("email,note,created_at\r\n"
            "a@example.org,\"one\r\ntwo\r\nthree\",2020-01-01\r\n"
            "\r\n"
            "b@example.org,,yesterday\r\n"
            "c@example.org,\"bad \"quote,2020-01-01\r\n"
            "d@example.org,,2020-01-01,extra\r\n")
    parsed = parse_text(text, GHOST, {})
    assert [r.line for r in parsed.records] == [2]
    assert [(r.line, r.reason.split(" ")[0]) for r in parsed.rejections] == [
        (6, "unreadable"), (7, "unreadable"), (8, "4")]
    assert parsed.data_rows == 4


def test_a_windows_spreadsheet_file_is_read_with_a_warning() -> None:
    raw = "Email Address,First Name\nzoe@example.org,Zoë\n".encode("cp1252")
    parsed = parse_bytes(raw, MAILCHIMP, {})
    assert parsed.records[0].name == "Zoë" and parsed.warnings
    assert parsed.sha256 == hashlib.sha256(raw).hexdigest()  # the file's bytes, whichever door they came through
    bom = "\ufeffEmail Address,First Name\nzoe@example.org,Zoë\n".encode()
    assert parse_bytes(bom, MAILCHIMP, {}).records[0].email == "zoe@example.org"


def test_addresses_are_judged_as_sign_up_judges_them() -> None:
    """The import checks each domain once (speed); the answers match sign-up's validator."""
    from pydantic import TypeAdapter, ValidationError

    from membership.identity.schemas import Email
    from membership.readers.importing.values import RowError, email

    signup: TypeAdapter[str] = TypeAdapter(Email)
    for raw in ["A.B@Example.ORG", "x@bücher.de", "a..b@x.org", "a@b", "ann <a@x.org>", "a b@x.org", "é@x.org",
                "a@x.invalid", "a@localhost", "a+tag@gmail.com", '"q"@x.org', "a@-x.org", "a@x.org.",
                "o'brien@x.ie", "@x.org", "x@", "a" * 65 + "@x.org", "a@" + "b" * 250 + ".org"]:
        try:
            expected: str | None = signup.validate_python(raw)
        except ValidationError:
            expected = None
        try:
            got: str | None = email(raw)
        except RowError:
            got = None
        assert got == expected, raw
