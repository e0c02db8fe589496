"""The reader-revenue backend: `create_app()` is the only way to build the app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask

from membership.config import ConfigError, Settings, load_settings


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Config -> extensions -> blueprints -> CLI. Bad config exits with one clear line."""
    try:
        settings = settings or load_settings(**overrides)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    app = Flask(__name__)
    _configure(app, settings)
    _init_extensions(app, settings)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    from membership.connections import engine_options
    from membership.i18n import init_i18n
    from membership.logs import configure_logging, install_request_id
    from membership.web.body_limits import install_body_limits
    from membership.web.headers import install_security_headers

    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),  # rotation: old sessions and sealed notices still open
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage_url,
        RATELIMIT_KEY_PREFIX=settings.broker_key_prefix or "membership",
        # Redis lost: count in this process's memory (one warning), never answer 500.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.25, "socket_timeout": 0.5} if settings.redis_url else {},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.mode == "production",
        TESTING=settings.mode == "test",
    )
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.mode)
    install_request_id(app)
    install_body_limits(app)
    install_security_headers(app)
    init_i18n(app)
    _trust_proxies(app, settings.trusted_proxy_hops)


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind N proxies, take the client's address, scheme and host from the last N
    X-Forwarded-* entries, so rate limits, consent evidence and logs see the reader,
    not the proxy. With 0 (the default) the headers are ignored: a client talking to
    the app directly could otherwise claim any address."""
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _init_extensions(app: Flask, settings: Settings) -> None:
    from membership import connections, models  # noqa: F401  (models: the whole schema on the metadata)
    from membership.errors import register_error_handlers
    from membership.extensions import db, limiter, migrate
    from membership.queue import celery_init_app

    db.init_app(app)
    connections.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    limiter.init_app(app)
    celery_init_app(app, settings)
    register_error_handlers(app)


# Bottom to top (docs/architecture.md); each package's `register.py` adds its blueprints.
PACKAGES = ("web", "api", "identity", "staff", "mail", "billing", "newsletters", "reports", "readers", "integrations", "console")


def _register_blueprints(app: Flask) -> None:
    from importlib import import_module

    for name in PACKAGES:
        import_module(f"membership.{name}.register").register(app)


def _register_cli(app: Flask) -> None:
    from membership.cli import register_cli

    register_cli(app)
