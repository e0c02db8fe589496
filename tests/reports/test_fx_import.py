"""`flask fx import`: rates a finance person loads from a CSV file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from membership.extensions import db
from membership.ledger.models import FxRate

HEADER = "date,currency,base_currency,rate,source\n"


def _rates() -> list[tuple[date, str, str, Decimal, str]]:
    rows = db.session.scalars(select(FxRate).order_by(FxRate.on_date, FxRate.currency))
    return [(r.on_date, r.currency, r.base_currency, Decimal(r.rate), r.source) for r in rows]


def test_import_loads_and_a_corrected_file_replaces(app: Flask, db_session: Any, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(HEADER + "2026-03-01,EUR,USD,1.10,ecb\n2026-03-01,jpy,usd,0.0067,ecb\n")
    result = app.test_cli_runner().invoke(args=["fx", "import", str(path)])
    assert result.exit_code == 0, result.output
    path.write_text(HEADER + "2026-03-01,EUR,USD,1.0975,ecb-corrected\n")
    assert app.test_cli_runner().invoke(args=["fx", "import", str(path)]).exit_code == 0
    assert _rates() == [(date(2026, 3, 1), "EUR", "USD", Decimal("1.0975"), "ecb-corrected"),
                        (date(2026, 3, 1), "JPY", "USD", Decimal("0.0067"), "ecb")]


def test_a_bad_row_refuses_the_whole_file(app: Flask, db_session: Any, tmp_path: Path) -> None:
    for bad in ("2026-03-01,EUR,USD,-1,ecb", "2026-13-01,EUR,USD,1.1,ecb", "2026-03-01,XXX,USD,1.1,ecb",
                "2026-03-01,USD,USD,1,ecb", "2026-03-01,EUR,USD,abc,ecb"):
        path = tmp_path / "rates.csv"
        path.write_text(HEADER + "2026-03-02,GBP,USD,1.27,ecb\n" + bad + "\n")
        result = app.test_cli_runner().invoke(args=["fx", "import", str(path)])
        assert result.exit_code != 0 and "line 3" in result.output, (bad, result.output)
    (tmp_path / "wrong.csv").write_text("day,currency,rate\n2026-03-01,EUR,1.1\n")
    assert "the header must be" in app.test_cli_runner().invoke(args=["fx", "import",
                                                                      str(tmp_path / "wrong.csv")]).output
    assert _rates() == []
