"""Everything issue 4 serves, registered in one call from the app factory:
the API contract, reader API and pages, reader billing API and the staff API."""

from __future__ import annotations

from flask import Flask


def register_reader_blueprints(app: Flask) -> None:
    from membership.api.views import bp as api_bp
    from membership.billing.catalog import bp as catalog_bp
    from membership.billing.reader_views import bp as billing_api_bp
    from membership.billing.staff_views import bp as billing_staff_api_bp
    from membership.newsletters.staff_views import bp as newsletters_staff_api_bp
    from membership.readers.pages import bp as reader_pages_bp
    from membership.readers.views import bp as readers_api_bp
    from membership.staff.views import bp as staff_api_bp
    from membership.web import access_log

    access_log.install()  # these blueprints serve token paths: keep them out of request logs
    for bp in (api_bp, readers_api_bp, billing_api_bp, catalog_bp, reader_pages_bp, staff_api_bp,
               billing_staff_api_bp, newsletters_staff_api_bp):
        app.register_blueprint(bp)
