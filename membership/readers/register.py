"""Registers the reader application: the reader API (sign-up, sign-in, account) and the
reader pages; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.readers.importing.cli import bp as import_cli_bp
    from membership.readers.pages import bp as pages_bp
    from membership.readers.views import bp as api_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(import_cli_bp)
