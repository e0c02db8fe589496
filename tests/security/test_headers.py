"""Security headers as a browser receives them: CSP with a per-request nonce, no
framing except embeddable views by the configured origins, nosniff, no Referer from
pages whose URL holds a secret, HSTS in production."""

from __future__ import annotations

import re
from typing import Any

import pytest

from membership import create_app
from membership.config import ConfigError, load_settings
from membership.web.headers import embeddable
from tests.test_config import PRODUCTION_ENV


def _csp(res: Any) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in res.headers["Content-Security-Policy"].split(";"))
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def test_a_page_gets_a_fresh_nonce_that_its_inline_script_carries(client: Any) -> None:
    first, second = client.get("/signin"), client.get("/signin")
    assert first.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", _csp(first)["script-src"])
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in first.get_data(as_text=True)
    assert _csp(second)["script-src"] != _csp(first)["script-src"]
    assert "'unsafe-inline'" not in first.headers["Content-Security-Policy"]
    assert _csp(first)["frame-ancestors"] == "'none'" and first.headers["X-Frame-Options"] == "DENY"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in first.headers  # not in development or tests


@pytest.mark.parametrize("path", ["/signin/some-token-value", "/confirm/some-token-value", "/u/some-token-value"])
def test_pages_with_a_secret_in_the_url_send_no_referrer_and_are_not_cached(client: Any, path: str) -> None:
    res = client.get(path)
    assert res.status_code < 500
    assert res.headers["Referrer-Policy"] == "no-referrer"
    assert res.headers["Cache-Control"] == "no-store"


def test_json_answers_carry_nosniff_and_no_framing(client: Any) -> None:
    res = client.get("/api/openapi.json")
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert _csp(res)["frame-ancestors"] == "'none'"


def test_only_embeddable_views_may_be_framed_and_only_by_the_configured_origins(
        app_settings: dict[str, Any], db_session: Any) -> None:
    site = "https://www.news-site.example"
    app = create_app(**{**app_settings, "embed_allowed_origins": (site,)})
    app.add_url_rule("/probe/embed", "probe_embed", embeddable(lambda: "inline form"))
    app.add_url_rule("/probe/plain", "probe_plain", lambda: "not for frames")
    with app.test_client() as http:
        framed, plain = http.get("/probe/embed"), http.get("/probe/plain")
    assert _csp(framed)["frame-ancestors"] == site and "X-Frame-Options" not in framed.headers
    assert _csp(plain)["frame-ancestors"] == "'none'" and plain.headers["X-Frame-Options"] == "DENY"


def test_an_embeddable_view_without_configured_origins_is_framed_by_no_one(
        app_settings: dict[str, Any], db_session: Any) -> None:
    app = create_app(**app_settings)
    app.add_url_rule("/probe/embed", "probe_embed", embeddable(lambda: "inline form"))
    res = app.test_client().get("/probe/embed")
    assert _csp(res)["frame-ancestors"] == "'none'" and res.headers["X-Frame-Options"] == "DENY"


def test_production_sends_hsts(app_settings: dict[str, Any], db_session: Any) -> None:
    env = {**PRODUCTION_ENV, "DATABASE_URL": app_settings["database_url"], "REDIS_URL": app_settings["redis_url"],
           "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_API_BASE": app_settings["stripe_api_base"]}
    app = create_app(load_settings(env, broker_key_prefix=app_settings["broker_key_prefix"]))
    res = app.test_client().get("/healthz", base_url="https://members.example.org")
    assert res.headers["Strict-Transport-Security"].startswith("max-age=")


def test_embed_origins_are_checked_at_start_up() -> None:
    settings = load_settings({**PRODUCTION_ENV, "EMBED_ALLOWED_ORIGINS": "https://a.example, https://b.example/"})
    assert settings.embed_allowed_origins == ("https://a.example", "https://b.example")
    with pytest.raises(ConfigError, match="^EMBED_ALLOWED_ORIGINS has 'https://a.example/page'"):
        load_settings({**PRODUCTION_ENV, "EMBED_ALLOWED_ORIGINS": "https://a.example/page"})
