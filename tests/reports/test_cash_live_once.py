"""The cash summary's live months beside roll-ups are read once (cash._live_once: cells
and distinct payers in one statement) and answer exactly what the fully live
computation does, over random ranges that end in or past the open month, before and
after a late refund dirties a rolled month (then two months are live)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from membership.enums import Stream
from membership.reports import cash, rollup
from tests.reports.test_rollups import FIRST, _back, _generate, _month


def _live(monkeypatch: pytest.MonkeyPatch, start: date, end: date) -> cash.CashSummary:
    with monkeypatch.context() as m:
        m.setattr(rollup, "current", lambda source, months: set())
        return cash.cash_summary(start, end)


def _compare(monkeypatch: pytest.MonkeyPatch, rng: random.Random, draws: int) -> int:
    calls: list[int] = []
    once = cash._live_once

    def counted(rolled: set[date], live: list[date]) -> Any:
        calls.append(len(live))
        return once(rolled, live)

    monkeypatch.setattr(cash, "_live_once", counted)
    span = (rollup.open_month().year - FIRST.year) * 12 + rollup.open_month().month - FIRST.month
    for _ in range(draws):
        start, end = _month(rng.randrange(-1, span - 1)), _month(span + rng.randrange(1, 3))
        summary = cash.cash_summary(start, end)
        assert summary == _live(monkeypatch, start, end), (start, end)
        assert any(c.figures.unique_payers for c in summary.cells) and summary.totals
    monkeypatch.setattr(cash, "_live_once", once)
    return len(calls)


def test_live_months_read_once_equal_live(db_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    payments = _generate(seed=4242)
    rng = random.Random(42)
    rollup.roll_up()
    assert _compare(monkeypatch, rng, 8) == 8
    old = next(p for p in payments if p.stream is Stream.MEMBERSHIP and p.paid_at.date() < date(2025, 10, 1))
    _back(old, "late", "refund", -100, 0, old.paid_at + timedelta(days=2))
    assert _compare(monkeypatch, rng, 8) >= 1
