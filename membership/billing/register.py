"""Registers billing's HTTP (Stripe's webhook, the reader billing API, the catalogue, the
staff inbox, comps and gifts) and its commands; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.billing.catalog import bp as catalog_bp
    from membership.billing.cli import bp as cli_bp
    from membership.billing.comp_views import bp as comps_bp
    from membership.billing.reader_views import bp as reader_bp
    from membership.billing.staff_views import bp as staff_bp
    from membership.billing.views import bp as webhook_bp

    for bp in (reader_bp, catalog_bp, staff_bp, comps_bp, webhook_bp, cli_bp):
        app.register_blueprint(bp)
