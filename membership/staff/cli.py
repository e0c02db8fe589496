"""`flask staff end-sessions EMAIL` and `flask staff reset-totp EMAIL`: the console's
counterparts of `flask staff revoke` (which ends API tokens), for operators with a shell."""

from __future__ import annotations

import click

from membership.errors import DomainError
from membership.extensions import db
from membership.unit_of_work import unit_of_work


def add_console_commands(group: click.Group) -> None:
    @group.command("end-sessions")
    @click.argument("email")
    def end_sessions(email: str) -> None:
        """End every console session of a staff user now (their next page asks them to sign in)."""
        from membership.staff.console_sessions import end_all
        from membership.staff.services import staff_by_email

        try:
            with unit_of_work():
                user = staff_by_email(email)
                count = end_all(user, actor="cli")
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.detail) from None
        click.echo(f"ended {count} console session(s) of {user.email}")

    @group.command("reset-totp")
    @click.argument("email")
    def reset_totp(email: str) -> None:
        """Forget a staff user's second factor and recovery codes (a lost phone); they enrol
        again at their next sign-in. Their console sessions end too."""
        from membership.staff import totp
        from membership.staff.console_sessions import end_all
        from membership.staff.services import staff_by_email

        try:
            with unit_of_work():
                user = staff_by_email(email)
                totp.reset(user, actor="cli")
                end_all(user, actor="cli")
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.detail) from None
        click.echo(f"second factor of {user.email} reset; they set it up again at their next sign-in")
