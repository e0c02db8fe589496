"""Registers the staff API (audit log) and its audit hook; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.staff.views import bp

    app.register_blueprint(bp)
