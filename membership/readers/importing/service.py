"""The member import as one callable service: the command (cli.py) and the staff
console's upload (membership/console/importing.py) both call it, so a file is parsed,
checked, reported and applied the same way whichever door it came through.

Services flush only. `dry_run` applies inside a savepoint and rolls that back, so its
report comes from the very same reads and writes as the real run and leaves nothing
behind; `run` applies and records the run (a MemberImport row and an audit entry naming
who ran it); the caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from membership.db import utcnow
from membership.extensions import db
from membership.readers.importing import options
from membership.readers.importing.apply import Target, apply
from membership.readers.importing.formats import FORMATS, MappingError, parse_maps
from membership.readers.importing.models import MemberImport
from membership.readers.importing.parse import ImportFileError, Parsed, parse_bytes
from membership.readers.importing.report import Report
from membership.staff.models import AuditLog

Progress = Callable[[int], None]


def parse(raw: bytes, source: str, maps: Sequence[str]) -> Parsed:
    """An export's bytes as checked records and rejected lines. ImportFileError when the
    file cannot be read as a member list at all, or the source or a map is wrong."""
    fmt = FORMATS.get(source)
    if fmt is None:
        raise ImportFileError(f"unknown source {source!r}: one of {', '.join(sorted(FORMATS))}")
    try:
        overrides = parse_maps(tuple(maps))
    except MappingError as exc:
        raise ImportFileError(str(exc)) from None
    return parse_bytes(raw, fmt, overrides)


def default_target(source: str) -> Target:
    """Where the rows go when no option says otherwise (the command's defaults: every
    active newsletter, the entry membership plan for comps, 12 months)."""
    return options.target(source, (), None, options.COMP_MONTHS, utcnow())


def dry_run(parsed: Parsed, target: Target, file_name: str, progress: Progress | None = None) -> Report:
    """The report a real run would give now; every write is rolled back (a savepoint)."""
    savepoint = db.session.begin_nested()
    try:
        outcome = apply(parsed.records, target, progress)
    finally:
        savepoint.rollback()
    return Report(target.source, file_name, parsed, outcome, dry_run=True)


def run(parsed: Parsed, target: Target, file_name: str, actor: str, via: str,
        progress: Progress | None = None) -> tuple[Report, MemberImport]:
    """Apply the records and record the run; `actor` and `via` (cli, console) go into the audit entry."""
    outcome = apply(parsed.records, target, progress)
    report = Report(target.source, file_name, parsed, outcome, dry_run=False)
    return report, _record_run(report, actor, via)


def _record_run(report: Report, actor: str, via: str) -> MemberImport:
    o = report.outcome
    row = MemberImport(source=report.source, file_name=report.file_name[:255], file_sha256=report.parsed.sha256,
                       data_rows=report.parsed.data_rows, readers_created=o.created, readers_updated=o.updated,
                       rejected=len(report.rejections))
    db.session.add(row)
    db.session.flush()
    db.session.add(AuditLog(actor=actor, action="members.import", target_type="member_import",
                            target_id=str(row.id), details={"source": report.source, "file": report.file_name,
                                                            "created": o.created, "updated": o.updated,
                                                            "rejected": len(report.rejections), "via": via}))
    db.session.flush()
    return row
