"""An export file -> validated records and rejected lines, each with its line number.

Line numbers are the ones an editor shows (the header is line 1): a record's number is
the line it starts on, so a quoted cell spanning lines does not shift the rows after it.
Rows are checked here, before anything is written, so a bad row is refused whole and
never half-applied. File-level duplicates (an email in any letter case, a Stripe
customer) are refused on their later line; the database-level checks are apply.py's.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from membership.readers.importing import values
from membership.readers.importing.formats import Format, MappingError, resolve
from membership.readers.importing.values import RowError


class ImportFileError(Exception):
    """The file cannot be read as a member list at all (the command exits non-zero)."""


@dataclass(frozen=True)
class Record:
    line: int
    email: str
    name: str = ""
    note: str = ""
    subscribed: bool = False
    opted_in_at: datetime | None = None
    created_at: datetime | None = None
    complimentary: bool = False
    comp_expires_at: datetime | None = None
    stripe_customer_id: str | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class Parsed:
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    data_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""


def read_file(path: Path, fmt: Format, overrides: Mapping[str, str]) -> Parsed:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_bytes(raw, fmt, overrides)


def parse_bytes(raw: bytes, fmt: Format, overrides: Mapping[str, str]) -> Parsed:
    warnings = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on Windows save CSV in their code page; better a readable name
        # with a wrong accent than refusing the whole file.
        text = raw.decode("cp1252", errors="replace")
        warnings.append("the file is not UTF-8; it was read as Windows-1252")
    parsed = parse_text(text, fmt, overrides)
    parsed.warnings[:0] = warnings
    parsed.sha256 = hashlib.sha256(raw).hexdigest()  # the file an import run names (MemberImport)
    return parsed


def _rows(text: str) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line of the record, its cells or None, a quoting error or None)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, None, f"unreadable CSV ({exc})"
            continue
        yield start, row, None


def parse_text(text: str, fmt: Format, overrides: Mapping[str, str]) -> Parsed:
    rows = _rows(text)
    header = next((row for _, row, _ in rows if row), None)
    if header is None:
        raise ImportFileError("the file is empty or has no header row")
    try:
        columns, ignored = resolve(header, fmt, overrides)
    except MappingError as exc:
        raise ImportFileError(str(exc)) from None
    if "email" not in columns.values():
        raise ImportFileError(f"no email column in the header ({', '.join(h.strip() for h in header)[:200]})")
    parsed = Parsed(ignored_columns=ignored)
    names = {target: header[index].strip() for index, target in columns.items()}
    seen_email: dict[str, int] = {}
    seen_customer: dict[str, int] = {}
    for line, row, problem in rows:
        if row is not None and not any(cell.strip() for cell in row):
            continue  # a blank line is no row
        parsed.data_rows += 1
        try:
            if row is None:
                raise RowError(problem or "unreadable CSV")
            if len(row) > len(header):
                raise RowError(f"{len(row)} fields but the header has {len(header)}")
            cells = {f: row[i] for i, f in columns.items() if i < len(row)}
            address = values.email(cells.get("email", ""))
            first = seen_email.setdefault(address, line)  # an earlier row counts even if refused
            if first != line:
                raise RowError(f"repeats the email of line {first}")
            record = _record(line, address, cells, names, fmt)
            _check_customer(record, seen_customer)
        except RowError as exc:
            parsed.rejections.append(Rejection(line, str(exc)))
            continue
        parsed.records.append(record)
    return parsed


def _check_customer(record: Record, seen_customer: dict[str, int]) -> None:
    if record.stripe_customer_id:
        first = seen_customer.setdefault(record.stripe_customer_id, record.line)
        if first != record.line:
            raise RowError(f"Stripe customer {record.stripe_customer_id} is already on line {first}")


def _record(line: int, address: str, cells: dict[str, str], names: dict[str, str], fmt: Format) -> Record:
    """The row's fields; errors name the file's own column (`names`: field -> header)."""
    get = cells.get

    def col(target: str) -> str:
        return names.get(target, target)

    name = get("name", "").strip() or " ".join(
        p for p in (get("first_name", "").strip(), get("last_name", "").strip()) if p)
    subscribed = values.flag(get("subscribed", ""), col("subscribed"), fmt.subscribed_by_default)
    if values.flag(get("email_disabled", ""), col("email_disabled"), False):
        subscribed = False
    created_at = values.when(get("created_at", ""), col("created_at"))
    opted_in_at = values.when(get("subscribed_at", ""), col("subscribed_at")) or created_at
    plan = " ".join(get("plan", "").split())
    complimentary = values.flag(get("complimentary", ""), col("complimentary"), False) or plan.lower() == "comp"
    labels = values.tags(get("labels", "")) + values.tags(get("tiers", ""), "tier:")
    if plan:
        labels.append(f"plan:{plan}"[:values.LABEL_MAX])
    return Record(
        line=line, email=address, name=name[:values.NAME_MAX], note=get("note", "").strip()[:values.NOTE_MAX],
        subscribed=subscribed, opted_in_at=opted_in_at, created_at=created_at, complimentary=complimentary,
        comp_expires_at=values.when(get("comp_expires_at", ""), col("comp_expires_at")),
        stripe_customer_id=values.stripe_customer(get("stripe_customer_id", "")),
        labels=tuple(dict.fromkeys(labels)),
    )
