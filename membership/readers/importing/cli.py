"""`flask members import PATH --from ghost|substack|mailchimp|csv [--map COLUMN=FIELD ...] [--dry-run]`.

Exit status: 0 whenever the import ran, rejected rows or not (they are in the report);
non-zero only when the file cannot be read as a member list at all (missing, empty, no
email column) or an option names something that does not exist. A real run is one unit
of work; a dry run does the same reads and writes and then rolls back, so its report
comes from the very same checks. The work itself is service.py's, which the staff
console's upload calls too; this module only reads the path and the options and prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Blueprint

from membership.db import utcnow
from membership.extensions import db
from membership.readers.importing import options, service
from membership.readers.importing.formats import FORMATS, MappingError, parse_maps
from membership.readers.importing.parse import ImportFileError, read_file
from membership.unit_of_work import unit_of_work

bp = Blueprint("members_cli", __name__, cli_group="members")


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A bar on a terminal; nothing in a pipe or a log."""
    if not sys.stdout.isatty() or total == 0:
        yield None
        return
    with click.progressbar(length=total, label="importing", file=sys.stdout) as bar:
        yield bar.update


@bp.cli.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--from", "source", type=click.Choice(sorted(FORMATS)), required=True,
              help="Whose export this is (docs/importing.md lists the columns read).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Read COLUMN as FIELD (repeatable); with --from csv, columns named like fields need none.")
@click.option("--dry-run", is_flag=True, help="Print the same report and change nothing.")
@click.option("--newsletter", "newsletters", multiple=True, metavar="SLUG",
              help="Opt-ins go to these newsletters (default: every active one).")
@click.option("--comp-plan", metavar="CODE", help="Membership plan of carried-over comps (default: lowest rank).")
@click.option("--comp-months", type=click.IntRange(1, 60), default=options.COMP_MONTHS, show_default=True,
              help="Length of a carried-over comp when the export gives no end.")
def import_members(path: Path, source: str, maps: tuple[str, ...], dry_run: bool, newsletters: tuple[str, ...],
                   comp_plan: str | None, comp_months: int) -> None:
    """Import readers from a members export; idempotent by email; mails nobody."""
    try:
        parsed = read_file(path, FORMATS[source], parse_maps(maps))
    except (ImportFileError, MappingError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        target = options.target(source, newsletters, comp_plan, comp_months, utcnow())
    except options.OptionError as exc:
        raise click.ClickException(str(exc)) from None
    with _progress(len(parsed.records)) as progress:
        if dry_run:
            try:
                report = service.dry_run(parsed, target, path.name, progress)
            finally:
                db.session.rollback()
        else:
            with unit_of_work():
                report, _run = service.run(parsed, target, path.name, actor="cli", via="cli", progress=progress)
    for line in report.lines():
        click.echo(line)
