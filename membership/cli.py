"""`flask ...` commands for operators: seed the demo, create staff."""

from __future__ import annotations

import click
from flask import Flask

from membership.enums import StaffRole


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--readers", default=300, show_default=True, help="How many demo readers.")
    @click.option("--if-empty", is_flag=True, help="Do nothing when readers already exist.")
    def seed_demo(readers: int, if_empty: bool) -> None:
        """Plans in two currencies, newsletters, and readers with history."""
        from membership.demo import seed
        from membership.extensions import db

        created = seed(readers, only_if_empty=if_empty)
        db.session.commit()
        click.echo(f"seeded {created} readers" if created else "database not empty; nothing seeded")

    @app.cli.group("staff")
    def staff() -> None:
        """Staff users."""

    @staff.command("create")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
    @click.option("--name", default="")
    def staff_create(email: str, role: str, name: str) -> None:
        """Create a staff user and print a one-time API token."""
        from membership.extensions import db
        from membership.staff.services import create_staff_user

        user, token = create_staff_user(email, StaffRole(role), name)
        db.session.commit()
        click.echo(f"created {user.email} ({user.role.value}); API token (shown once): {token}")

    from membership.newsletters.cli import register_cli as register_newsletter_cli

    register_newsletter_cli(app)
