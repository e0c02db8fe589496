"""Members > Import members in a real browser: an admin (second factor passed) uploads a
Ghost export through the file input, reads the dry run with the rejected lines, confirms,
and sees what was imported. axe on every page; screenshots console-import-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from membership.demo import seed_catalogue
from membership.enums import StaffRole
from membership.extensions import db
from membership.identity.models import Reader
from membership.mail.models import Notice
from tests.browser.harness import Site, assert_accessible, shoot
from tests.console.helpers import sign_in_browser, staff_user
from tests.readers.import_support import write_ghost_export

pytestmark = pytest.mark.browser


def _look(page: Any, name: str) -> None:
    assert_accessible(page, name)
    shoot(page, name)


def _readers() -> int:
    db.session.rollback()  # a fresh snapshot of what the live site committed
    return int(db.session.scalar(select(func.count()).select_from(Reader)) or 0)


def test_admin_uploads_checks_and_confirms_a_ghost_export(site: Site, page: Any, tmp_path: Path) -> None:
    seed_catalogue()
    db.session.commit()
    export = write_ghost_export(tmp_path / "ghost-members.csv", count=500)
    sign_in_browser(page, site, staff_user(StaffRole.ADMIN, "imports@staff.example"))

    page.goto("/staff/members")
    page.get_by_role("link", name="Import members").click()
    page.get_by_role("heading", name="Import members").wait_for()
    page.get_by_label("Export file").set_input_files(str(export.path))
    page.get_by_label("Source").select_option(label="Ghost")
    _look(page, "console-import-upload")

    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Dry run: ghost-members.csv").wait_for()
    rejected = page.locator("table.rejected tbody tr")
    assert rejected.count() == len(export.rejected)
    for row, (line, reason) in zip(rejected.all(), sorted(export.rejected.items()), strict=True):
        assert row.locator("td").first.inner_text() == str(line) and reason in row.inner_text()
    counts = page.locator("table.import-counts")
    assert "New readers\t500" in counts.inner_text()
    assert _readers() == 0  # the dry run changed nothing
    _look(page, "console-import-dry-run")

    page.get_by_role("button", name="Confirm import").click()
    page.get_by_role("heading", name="Imported: ghost-members.csv").wait_for()
    page.get_by_text("The import is done").wait_for()
    assert "New readers\t500" in page.locator("table.import-counts").inner_text()
    assert _readers() == len(export.members)
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0  # nobody was mailed
    _look(page, "console-import-done")

    page.go_back()  # the dry-run page of an upload that is gone
    page.reload()
    page.get_by_text("There is no such upload waiting").wait_for()
