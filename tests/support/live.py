"""The app on a real HTTP server thread, for tests where another process (stripe_sim's
webhook deliveries, a browser-like client) must reach it over loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<port> (a free one by default); yields the base URL;
    always shuts down."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def webhook_target(app: Flask, sim: Any) -> Iterator[tuple[str, str]]:
    """Serve `app` and register it as the sim's webhook endpoint; yields (base URL, endpoint id).

    On exit the endpoint is deleted and pending deliveries drained before the server stops.
    """
    from membership.billing.gateway import stripe_client

    with serve(app) as base:
        endpoint = sim.add_webhook_endpoint(f"{base}/webhooks/stripe")
        try:
            yield base, endpoint
        finally:
            with app.app_context():
                stripe_client().v1.webhook_endpoints.delete(endpoint)
            sim.wait_for_deliveries(10)
