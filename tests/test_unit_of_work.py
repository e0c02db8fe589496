"""One unit of work at each boundary: a page, an API operation or a task commits once
when it succeeds and changes nothing when it fails, and `.commit(` appears nowhere but
in membership/unit_of_work.py (the boundaries and the one named `checkpoint` helper)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from celery import shared_task
from flask import Flask
from sqlalchemy import func, select

from membership import create_app
from membership.errors import Conflict
from membership.extensions import db
from membership.staff.models import AuditLog
from membership.unit_of_work import transactional

ROOT = Path(__file__).resolve().parents[1]


def _marks(marker: str) -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.target_id == marker)) or 0)


def _mark(marker: str) -> None:
    db.session.add(AuditLog(actor="test", action="uow.mark", target_type="marker", target_id=marker))
    db.session.flush()


def test_only_the_unit_of_work_module_commits() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}"
             for base in ("membership", "workers") for path in (ROOT / base).rglob("*.py")
             for n, line in enumerate(path.read_text().splitlines(), start=1)
             if re.search(r"\.commit\(", line) and path.name != "unit_of_work.py"]
    assert found == []


@pytest.fixture
def probe_app(app_settings: dict[str, Any], db_session: Any) -> Flask:
    """An app of its own: routes can't be added to one that has served requests."""
    probe = create_app(**app_settings)

    @transactional
    def succeeds(marker: str) -> str:
        _mark(marker)
        return "ok"

    @transactional
    def refuses(marker: str) -> str:
        _mark(marker)
        raise Conflict("refused after the service flushed")

    probe.add_url_rule("/probe/ok/<marker>", "probe_ok", succeeds, methods=["POST"])
    probe.add_url_rule("/probe/no/<marker>", "probe_no", refuses, methods=["POST"])
    return probe


def test_a_page_commits_on_success_and_a_refusal_changes_nothing(probe_app: Flask) -> None:
    ok, no = uuid.uuid4().hex, uuid.uuid4().hex
    http = probe_app.test_client()
    assert http.post(f"/probe/ok/{ok}").status_code == 200
    assert http.post(f"/probe/no/{no}").status_code == 409
    with probe_app.app_context():
        assert (_marks(ok), _marks(no)) == (1, 0)


def test_a_task_commits_when_it_returns_and_rolls_back_when_it_raises(app: Flask, db_session: Any) -> None:
    @shared_task(name="tests.uow_mark")
    def mark(marker: str, fail: bool) -> None:
        _mark(marker)
        if fail:
            raise RuntimeError("the task failed after writing")

    ok, failed = uuid.uuid4().hex, uuid.uuid4().hex
    task = app.extensions["celery"].tasks["tests.uow_mark"]
    with app.app_context():
        assert task.apply(args=(ok, False)).successful()
        assert task.apply(args=(failed, True)).failed()
        assert (_marks(ok), _marks(failed)) == (1, 0)
