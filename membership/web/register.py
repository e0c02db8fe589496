"""Registers the operational endpoints (health, readiness) and keeps token paths out of
request logs; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.web import access_log
    from membership.web.views import bp

    access_log.install()
    app.register_blueprint(bp)
