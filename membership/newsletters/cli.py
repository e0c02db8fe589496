
"""`flask mail import-bounces PATH`: bounces and complaints from a file or a DSN folder."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from membership.unit_of_work import unit_of_work


def register_cli(app: Flask) -> None:
    """Attach to the `mail` group if another module made one, else create it."""
    group = app.cli.commands.get("mail")
    if not isinstance(group, click.Group):
        group = AppGroup("mail", help="Mail: suppressions, bounces.")
        app.cli.add_command(group)
    group.add_command(import_bounces)


@click.command("import-bounces")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_bounces(path: Path) -> None:
    """Import bounces/complaints from a CSV or JSON file, an .eml DSN, or a folder of them.

    Hard bounces (5.x.x) and complaints suppress the address; soft bounces are counted.
    """
    from membership.errors import InvalidInput
    from membership.newsletters.bounces import import_path

    try:
        with unit_of_work():
            counts = import_path(path)
    except InvalidInput as exc:
        raise click.UsageError(exc.detail) from None
    click.echo(f"imported {counts['events']} events ({counts['duplicates']} already known); "
               f"{counts['suppressed']} addresses newly suppressed")
