"""The join and donate forms inside a page of another origin, put there by one script tag.

The newsroom's page is served by a tiny static server on the `embedding_origin` port
(localhost: another site than the app's 127.0.0.1, so the browser treats the frame as
cross-site exactly as on a real newsroom's domain, SameSite cookies included). A second
static server on another port plays a site that is NOT allowed to frame us.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

import pytest
import requests

from membership.demo import seed_catalogue
from membership.extensions import db
from tests.browser.harness import Site, assert_accessible, shoot
from tests.conftest import free_port

pytestmark = pytest.mark.browser


@contextmanager
def static_site(origin: str, pages: dict[str, str]) -> Iterator[str]:
    """Serve `pages` (path -> HTML) at `origin` until the block ends (stopped within seconds)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server names the handler so
            body = pages.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", urlparse(origin).port or 80), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _newsroom_page(site: Site, kind: str, display: str, lang: str = "en") -> str:
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Newsroom</title></head>
<body><main><h1>Our newsroom</h1><p>An article the reader just finished.</p>
<script src="{site.url}/embed.js" data-kind="{kind}" data-display="{display}" data-lang="{lang}" async></script>
<p>After the form.</p></main></body></html>"""


@pytest.fixture
def catalogue(site: Site) -> None:
    seed_catalogue()
    db.session.commit()


def test_the_inline_form_in_another_origin_opens_checkout_in_the_top_window(
        site: Site, page: Any, embedding_origin: str, catalogue: None) -> None:
    pages = {"/join.html": _newsroom_page(site, "join", "inline"),
             "/donate.html": _newsroom_page(site, "donate", "button")}
    with static_site(embedding_origin, pages):
        with page.expect_response(re.compile(r"/embed/join\?")) as framed:
            page.goto(f"{embedding_origin}/join.html")
        policy = framed.value.headers["content-security-policy"]
        assert f"frame-ancestors {embedding_origin}" in policy and "x-frame-options" not in framed.value.headers

        iframe = page.locator("iframe.membership-embed-join")
        frame = page.frame_locator("iframe.membership-embed-join")
        frame.get_by_label("Email").wait_for()
        # the frame reported its height and the iframe took it (not the script's 36rem default)
        page.wait_for_function("() => document.querySelector('iframe').style.height.endsWith('px')")
        box = iframe.bounding_box()
        inner = frame.locator("body").evaluate("b => b.getBoundingClientRect().height")
        assert box is not None and abs(box["height"] - inner) < 40, (box, inner)
        assert page.get_by_text("After the form.").is_visible()
        shoot(page, "embed-newsroom-join-inline")

        frame.get_by_label("Email").fill("framed@example.org")
        frame.get_by_role("button", name="Continue to payment").click()
        # Checkout runs in the top window: the newsroom's page is replaced, not the frame
        page.get_by_label("Card number").wait_for()
        assert not page.url.startswith(embedding_origin) and not page.url.startswith(site.url), page.url
        shoot(page, "embed-checkout-top-window")
        page.get_by_label("Card number").fill("4242424242424242")
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_url(f"{site.url}/welcome**")  # back on our page, in the top window

        page.goto(f"{embedding_origin}/donate.html")
        button = page.get_by_role("link", name="Donate")
        assert button.get_attribute("href") == f"{site.url}/donate?lang=en"
        shoot(page, "embed-newsroom-donate-button")


def test_a_site_not_allowed_cannot_frame_the_forms(site: Site, page: Any, embedding_origin: str) -> None:
    other = f"http://localhost:{free_port()}"
    framing = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other</title></head>
<body><iframe title="join" src="{site.url}/embed/join"></iframe></body></html>"""
    answer = requests.get(f"{site.url}/embed/join", timeout=10)
    assert answer.status_code == 200
    ancestors = re.search(r"frame-ancestors ([^;]+)", answer.headers["Content-Security-Policy"])
    assert ancestors is not None and ancestors.group(1).split() == [embedding_origin]
    signin = requests.get(f"{site.url}/signin", timeout=10).headers
    assert "frame-ancestors 'none'" in signin["Content-Security-Policy"] and signin["X-Frame-Options"] == "DENY"

    with static_site(other, {"/": framing}):
        page.goto(f"{other}/")
        frame = next(f for f in page.frames if f != page.main_frame)
        assert not frame.url.startswith(site.url), frame.url  # Chromium replaced it with its error page
        assert page.frame_locator("iframe").locator("form").count() == 0
        shoot(page, "embed-refused-elsewhere")


@pytest.mark.parametrize("lang", ["en", "hy"])
@pytest.mark.parametrize("kind", ["join", "donate"])
def test_embed_pages_are_accessible(site: Site, page: Any, phone: Any, catalogue: None, kind: str,
                                    lang: str) -> None:
    for tab, size in ((page, "desktop"), (phone, "phone")):
        tab.goto(f"/embed/{kind}?lang={lang}")
        assert tab.locator("html").get_attribute("lang") == lang
        assert tab.locator("header.site").is_hidden() and tab.locator("form").count() >= 1
        assert tab.locator("form").first.evaluate("f => f.target || document.querySelector('base').target") == "_top"
        assert_accessible(tab, f"embed-{kind}-{lang}-{size}")
        shoot(tab, f"embed-{kind}-{lang}-{size}")


def test_the_embedded_form_refuses_a_forged_token(site: Site, catalogue: None) -> None:
    answer = requests.post(f"{site.url}/embed/join", data={"csrf_token": "forged", "email": "x@example.org"},
                           timeout=10)
    assert answer.status_code == 403 and "<form" not in answer.text.split("<main", 1)[1]
    other = requests.post(f"{site.url}/embed/join", headers={"Origin": "https://evil.example"},
                          data={"csrf_token": "forged", "email": "x@example.org"}, timeout=10)
    assert other.status_code == 403


def test_embed_js_is_served_as_cacheable_javascript(site: Site) -> None:
    answer = requests.get(f"{site.url}/embed.js", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=3600" in answer.headers["Cache-Control"] and answer.headers.get("ETag")
    assert len(answer.content) < 4000 and "import " not in answer.text
    again = requests.get(f"{site.url}/embed.js", headers={"If-None-Match": answer.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
