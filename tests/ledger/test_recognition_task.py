"""The nightly recognition task: recognises through the given day, then posts nothing more."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from typing import Any

from membership.queue import celery_config
from tests.ledger.test_recognition import annual
from workers.tasks.reports import recognize_revenue

BEAT = Path(__file__).resolve().parents[2] / "workers" / "beat.py"


def test_task_recognises_through_the_day_and_is_idempotent(db_session: Any) -> None:
    # .run(): the task body in this test's transaction (calling the task would push the
    # worker app's own context, another database)
    _payment, schedule = annual(36500)
    assert recognize_revenue.run("2026-02-28") == 2
    assert recognize_revenue.run("2026-02-28") == 0
    assert schedule.recognized_minor == 3100 + 2800
    assert schedule.recognized_through == date(2026, 2, 28)


def test_task_runs_on_the_reports_queue_from_the_beat(app: Any) -> None:
    routes = celery_config(app.config["SETTINGS"])["task_routes"]
    assert recognize_revenue.name == "workers.tasks.reports.recognize_revenue"
    assert routes["workers.tasks.reports.*"] == {"queue": "reports"}
    # the beat module builds the worker app at import, so read its schedule as source
    assert "workers.tasks.reports.recognize_revenue" in {
        node.value for node in ast.walk(ast.parse(BEAT.read_text())) if isinstance(node, ast.Constant)}
