"""Registers the finance reports API and the `fx` commands; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.reports.cli import bp as cli_bp
    from membership.reports.routes import bp

    app.register_blueprint(bp)
    app.register_blueprint(cli_bp)
