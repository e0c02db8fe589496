"""Registers the integrations: the site-facing API, the JWKS, the staff API, the
commands, and the outbox's listener on every session; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.integrations import capture
    from membership.integrations.cli import hooks_bp, keys_bp
    from membership.integrations.staff_views import bp as staff_bp
    from membership.integrations.views import api_bp, session_bp, wellknown_bp

    capture.install()
    for bp in (api_bp, session_bp, wellknown_bp, staff_bp, keys_bp, hooks_bp):
        app.register_blueprint(bp)
