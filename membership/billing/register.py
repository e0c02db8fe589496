"""Registers billing's HTTP (Stripe's webhook, the reader billing API, the catalogue, the
staff inbox, comps and gifts, notice alerts), its commands, and what its notices tell
mail; called from the loop in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from membership.billing.catalog import bp as catalog_bp
    from membership.billing.cli import bp as cli_bp
    from membership.billing.comp_views import bp as comps_bp
    from membership.billing.notices import contexts, relevance  # noqa: F401  (they register with mail)
    from membership.billing.notices.cli import bp as notices_cli_bp
    from membership.billing.notices.policy import POLICIES
    from membership.billing.notices.views import bp as notices_bp
    from membership.billing.reader_views import bp as reader_bp
    from membership.billing.staff_views import bp as staff_bp
    from membership.billing.views import bp as webhook_bp
    from membership.mail.kinds import renewal_law

    renewal_law(*POLICIES)
    for bp in (reader_bp, catalog_bp, staff_bp, comps_bp, notices_bp, webhook_bp, cli_bp, notices_cli_bp):
        app.register_blueprint(bp)
