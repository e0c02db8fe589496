"""Reports as CSV: one header row, plain minor-unit integers and ISO dates, so a
spreadsheet or an accounting import reads them without locale guessing. The report's
name and version travel in the file name and an `X-Report` header, not in the rows.
Cells are written by membership/csv_safe.py, which neutralises formula-like text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask import Response

from membership.csv_safe import csv_text


def csv_response(name: str, version: int, start: date, end: date, header: Sequence[str],
                 rows: Iterable[Sequence[Any]]) -> Response:
    return csv_file_response(name, version, start, end, csv_text(header, rows))


def csv_file_response(name: str, version: int, start: date, end: date, body: str) -> Response:
    """A file already written (the journal export's, by PostgreSQL: accounting_csv.py)."""
    filename = f"{name}-v{version}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "X-Report": f"{name}/{version}"})
