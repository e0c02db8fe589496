"""Registers mail's staff endpoints and commands; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.mail.cli import bp as cli_bp
    from membership.mail.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(cli_bp)
