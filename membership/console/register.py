"""Registers the staff console; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.console.pages import bp

    app.register_blueprint(bp)
