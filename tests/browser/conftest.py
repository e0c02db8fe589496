"""Fixtures for browser tests: see harness.py for why each part is what it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from membership import create_app
from membership.billing.gateway import stripe_client
from membership.extensions import db
from tests.browser.harness import CHROMIUM, LAUNCH_ARGS, Site, require_browser_tools
from tests.conftest import free_port, worker_env
from tests.support.live import serve
from tests.support.worker import WorkerProcess

EMBEDDING_ORIGIN_PORT = free_port()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_browser_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def embedding_origin() -> str:
    """The origin of the newsroom's own site in embed tests (another port: another origin)."""
    return f"http://localhost:{EMBEDDING_ORIGIN_PORT}"


@pytest.fixture(scope="package")
def live_site(app: Flask, app_settings: dict[str, Any], stripe_sim: Any, smtp_sink: Any,
              embedding_origin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The whole site on a real server whose PUBLIC_URL is its own address, registered as
    the simulator's webhook endpoint, with a real worker for webhooks and mail.

    Package scope: the endpoint is removed once the browser tests are done, so Stripe events
    from later tests (which share the simulator) are not delivered to this server, whose
    requests would then run on another test's database connection."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {**app_settings, "public_url": url, "embed_allowed_origins": embedding_origin}
    site_app = create_app(**settings)
    logs = tmp_path_factory.mktemp("browser-worker")
    with serve(site_app, port=port):
        endpoint = stripe_sim.add_webhook_endpoint(f"{url}/webhooks/stripe")
        worker = WorkerProcess(worker_env(settings), queues="default,webhooks,mail", concurrency=2,
                               log_path=logs / "worker.log").start()
        try:
            yield Site(url=url, app=site_app, mailbox=smtp_sink)
        finally:
            worker.stop()
            with site_app.app_context():
                stripe_client().v1.webhook_endpoints.delete(endpoint)
                db.engine.dispose()
            stripe_sim.wait_for_deliveries(10)


@pytest.fixture
def site(live_site: Site, committed_db: None, mailbox: Any) -> Site:
    """The live site with an empty database and mailbox for this test (rows truncated after)."""
    return live_site


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser context (no cookies) on a desktop-sized window, English by default."""
    context = browser.new_context(base_url=site.url, locale="en-US", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def phone(browser: Any, site: Site) -> Iterator[Any]:
    """A phone-sized context, for the pages readers mostly open on their phones."""
    context = browser.new_context(base_url=site.url, locale="en-US", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()
