"""`flask ...` commands for operators: seed the demo; create staff, issue and revoke their tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from flask import Flask

from membership.enums import StaffRole
from membership.staff.services import MAX_TOKEN_DAYS, TOKEN_DAYS
from membership.unit_of_work import unit_of_work

T = TypeVar("T")


def _or_fail(action: Callable[[], T]) -> T:
    """A refused command (unknown user, duplicate, bad input) is one line and exit 1, not a traceback."""
    from membership.errors import DomainError
    from membership.extensions import db

    try:
        return action()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.detail) from None


def _print_reader_start(app: Flask) -> None:
    """The page to open first, and in development only the demo reader's sign-in link."""
    from membership.demo.reader_pages import demo_sign_in_link

    settings = app.config["SETTINGS"]
    click.echo(f"open first: {settings.public_url.rstrip('/')}/  (the support page; /join to become a member)")
    if settings.mode == "development":
        with unit_of_work():
            link = demo_sign_in_link()
        if link:
            click.echo(f"demo reader (development only), sign-in link valid 15 minutes: {link}")
        _print_staff_start(settings.public_url)


def _print_staff_start(public_url: str) -> None:
    """Development only: how the demo admin signs in to the console (membership/demo/staff.py)."""
    from membership.demo.staff import DEMO_ADMIN, demo_staff_sign_in_link

    with unit_of_work():
        link = demo_staff_sign_in_link()
    if link:
        click.echo(f"staff console (development only): {public_url.rstrip('/')}/staff as {DEMO_ADMIN} (admin); "
                   f"sign-in link valid 15 minutes, also in the mail sink var/mail: {link}  "
                   "(then set up the second step with any authenticator app from the Setup key shown)")


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--readers", default=300, show_default=True, help="How many demo readers.")
    @click.option("--if-empty", is_flag=True, help="Do nothing when readers already exist.")
    def seed_demo(readers: int, if_empty: bool) -> None:
        """Plans in two currencies, newsletters, and readers with history."""
        from membership.demo import seed

        with unit_of_work():
            created = seed(readers, only_if_empty=if_empty)
        click.echo(f"seeded {created} readers" if created else "database not empty; nothing seeded")
        _print_reader_start(app)

    @app.cli.group("staff")
    def staff() -> None:
        """Staff users."""

    @staff.command("create")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True,
                  help="What they may do: membership/staff/roles.py.")
    @click.option("--name", default="")
    @click.option("--expires-days", type=click.IntRange(1, MAX_TOKEN_DAYS), default=TOKEN_DAYS, show_default=True,
                  help="Days until the token stops working.")
    def staff_create(email: str, role: str, name: str, expires_days: int) -> None:
        """Create a staff user and print a one-time API token."""
        from membership.staff.services import create_staff_user

        with unit_of_work():
            user, token = _or_fail(lambda: create_staff_user(email, StaffRole(role), name, expires_days))
        click.echo(f"created {user.email} ({user.role.value}), token valid {expires_days} days; "
                   f"API token (shown once): {token}")

    @staff.command("token")
    @click.argument("email")
    @click.option("--expires-days", type=click.IntRange(1, MAX_TOKEN_DAYS), default=TOKEN_DAYS, show_default=True,
                  help="Days until the token stops working.")
    def staff_token(email: str, expires_days: int) -> None:
        """Issue a new one-time API token to an existing staff user (after expiry or revoke)."""
        from membership.staff.services import issue_token, staff_by_email

        with unit_of_work():
            token = _or_fail(lambda: issue_token(staff_by_email(email), expires_days))
        click.echo(f"new token for {email.strip().lower()}, valid {expires_days} days; "
                   f"API token (shown once): {token}")

    @staff.command("revoke")
    @click.argument("email")
    def staff_revoke(email: str) -> None:
        """Revoke every token of a staff user now (their next request is a 401)."""
        from membership.staff.services import revoke_tokens

        with unit_of_work():
            user, count = _or_fail(lambda: revoke_tokens(email))
        click.echo(f"revoked {count} token(s) of {user.email}" if count
                   else f"{user.email} had no live tokens; nothing revoked")

    from membership.staff.cli import add_console_commands

    add_console_commands(staff)  # end-sessions, reset-totp (the console's sessions and second factor)

    from membership.newsletters.cli import register_cli as register_newsletter_cli

    register_newsletter_cli(app)
