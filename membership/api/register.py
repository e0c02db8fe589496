"""Registers the API contract (`/api/openapi.json`); called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.api.views import bp

    app.register_blueprint(bp)
