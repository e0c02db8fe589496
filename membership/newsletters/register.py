"""Registers newsletters' HTTP (unsubscribe, mail events, the staff API); called from the
loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.newsletters.staff_views import bp as staff_bp
    from membership.newsletters.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
