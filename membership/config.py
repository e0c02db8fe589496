"""Typed settings read from the environment and validated once, at start-up.

Production refuses to start on a missing or malformed setting, naming it and how to
set it; development and tests fill safe defaults (the embedded default: SQLite under
var/, a broker on SQLite, the offline Stripe simulator and a local mail sink).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
FISCAL_STATUSES = ("nonprofit", "fiscally_sponsored", "for_profit")
MODES = ("development", "production", "test")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and how to set it."""


@dataclass(frozen=True)
class Settings:
    mode: str = "development"
    database_url: str = f"sqlite:///{VAR_DIR / 'membership.db'}"
    redis_url: str | None = None
    broker_url: str = f"sqla+sqlite:///{VAR_DIR / 'broker.db'}"
    broker_key_prefix: str = ""
    # No secret has a value written here: development reads (or creates) its own under
    # var/, tests mint one per process, production must be given them (see _secrets).
    secret_key: str = ""
    stripe_secret_key: str = "sk_test_embedded_default"
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "http://127.0.0.1:12111"
    smtp_url: str = "smtp://127.0.0.1:8025"
    public_url: str = "http://127.0.0.1:5000"
    outlet_name: str = "The Demo Gazette"
    outlet_postal_address: str = "1 Example Street, Springfield, CA 90000, USA"
    outlet_timezone: str = "America/Los_Angeles"
    fiscal_status: str = "nonprofit"
    outlet_ein: str | None = "00-0000000"
    mail_from: str = "members@demo-gazette.example"
    past_due_grace_days: int = 14
    trusted_proxy_hops: int = 0
    embed_allowed_origins: tuple[str, ...] = ()
    secret_key_fallbacks: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def rate_limit_storage_url(self) -> str:
        return self.redis_url or "memory://"


# name -> (field, how to set it); order is the order errors are reported in.
_ENV: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("database_url", "postgresql+psycopg://user@host/dbname"),
    "REDIS_URL": ("redis_url", "redis://host:6379/0"),
    "SECRET_KEY": ("secret_key", "32+ random characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"),
    "STRIPE_SECRET_KEY": ("stripe_secret_key", "your Stripe secret key, sk_live_... or sk_test_..."),
    "STRIPE_WEBHOOK_SECRET": ("stripe_webhook_secret", "the endpoint's signing secret, whsec_..."),
    "STRIPE_API_BASE": ("stripe_api_base", "https://api.stripe.com"),
    "SMTP_URL": ("smtp_url", "smtp://user:password@relay:587 (or smtps://...)"),
    "PUBLIC_URL": ("public_url", "https://members.example.org"),
    "OUTLET_NAME": ("outlet_name", "the newsroom's name as readers know it"),
    "OUTLET_POSTAL_ADDRESS": ("outlet_postal_address", "the postal address printed in every mail (CAN-SPAM)"),
    "OUTLET_TIMEZONE": ("outlet_timezone", "an IANA zone such as America/Chicago"),
    "FISCAL_STATUS": ("fiscal_status", "one of " + ", ".join(FISCAL_STATUSES)),
    "OUTLET_EIN": ("outlet_ein", "the nonprofit's EIN, 12-3456789"),
    "MAIL_FROM": ("mail_from", "the From address, members@example.org"),
    "PAST_DUE_GRACE_DAYS": ("past_due_grace_days", "a whole number of days, e.g. 14"),
    "TRUSTED_PROXY_HOPS": ("trusted_proxy_hops", "the number of proxies in front of the app that set "
                           "X-Forwarded-For/Proto/Host, e.g. 1 (0 when clients connect directly)"),
    "SECRET_KEY_FALLBACKS": ("secret_key_fallbacks", "the previous SECRET_KEY values, space-separated, while "
                             "rotating (they verify and open, never sign or seal)"),
    "EMBED_ALLOWED_ORIGINS": ("embed_allowed_origins", "the newsroom's site origins that may frame the embeddable "
                              "pages, space-separated, e.g. https://www.example.org https://example.org"),
    "CELERY_KEY_PREFIX": ("broker_key_prefix", "a short prefix such as 'prod:'"),
    "BROKER_URL": ("broker_url", "a Celery broker URL; defaults to REDIS_URL, else SQLite under var/"),
}
_REQUIRED_IN_PRODUCTION = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
    "SMTP_URL", "PUBLIC_URL", "OUTLET_NAME", "OUTLET_POSTAL_ADDRESS", "OUTLET_TIMEZONE",
    "FISCAL_STATUS",
)


LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
PRODUCTION_STRIPE_API_BASE = "https://api.stripe.com"
# Values that appear in this repository's docs and tests as examples of a secret key:
# production refuses them even though they are long enough (tests/test_security_keys.py
# scans the repository and fails when a new example is not listed here).
KNOWN_EXAMPLE_SECRETS = frozenset({
    "dev-only-secret-key-change-me-0000000000",
})
_PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "example", "placeholder", "dev-only", "your-secret",
                      "secret-key", "secret_key", "not-a-secret")
SECRET_FILES = {"secret_key": "secret_key", "stripe_webhook_secret": "stripe_webhook_secret"}


def _fail(name: str, problem: str, fix: str | None = None) -> ConfigError:
    return ConfigError(f"{name} {problem}: {fix or 'set it to ' + _ENV[name][1]}")


def _read(environ: Mapping[str, str], mode: str) -> dict[str, Any]:
    values: dict[str, Any] = {"mode": mode}
    for name, (attr, _) in _ENV.items():
        raw = environ.get(name, "").strip()
        if raw:
            values[attr] = raw
        elif mode == "production" and name in _REQUIRED_IN_PRODUCTION:
            raise _fail(name, "is not set")
    for name, attr in (("PAST_DUE_GRACE_DAYS", "past_due_grace_days"), ("TRUSTED_PROXY_HOPS", "trusted_proxy_hops")):
        if attr in values:
            if not str(values[attr]).isdigit():
                raise _fail(name, "is not a whole number")
            values[attr] = int(values[attr])
    if "secret_key_fallbacks" in values:
        values["secret_key_fallbacks"] = tuple(values["secret_key_fallbacks"].split())
    if "embed_allowed_origins" in values:
        values["embed_allowed_origins"] = _origins(values["embed_allowed_origins"])
    if mode == "production" and "stripe_api_base" not in values:
        values["stripe_api_base"] = PRODUCTION_STRIPE_API_BASE
    return values


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(part.rstrip("/") for part in raw.replace(",", " ").split())
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path or parsed.query:
            raise _fail("EMBED_ALLOWED_ORIGINS", f"has '{origin}', which is not an origin")
    return origins


def looks_like_example_secret(value: str) -> bool:
    """A published example or an obvious placeholder: never fit to sign anything."""
    lowered = value.lower()
    return (value in KNOWN_EXAMPLE_SECRETS or len(set(value)) < 12
            or any(word in lowered for word in _PLACEHOLDER_WORDS))


def _local_secret(directory: Path, name: str, make: str) -> str:
    """Read var/<name>, or create it once (mode 0600) with `make`. Several processes may
    start at once (web, worker, beat): the file is written aside and linked into place,
    which fails for all but the first, and those read the winner's value."""
    path = directory / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    aside = directory / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(make + "\n")
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
    return path.read_text().strip()


def _secrets(values: dict[str, Any], mode: str, var_dir: Path) -> None:
    """Fill the secrets nobody set. Development keeps one random pair under var/ so
    sessions survive a restart; tests get a fresh pair per process; production
    never reaches here without them (they are required)."""
    fresh = {"secret_key": secrets.token_urlsafe(48), "stripe_webhook_secret": "whsec_" + secrets.token_urlsafe(32)}
    for attr, value in fresh.items():
        if values.get(attr):
            continue
        values[attr] = _local_secret(var_dir, SECRET_FILES[attr], value) if mode == "development" else value


def _validate(s: Settings) -> None:
    """Checks shape, not reachability: /readyz reports what is down."""
    db = urlparse(s.database_url).scheme.split("+")[0]
    if db not in ("postgresql", "sqlite"):
        raise _fail("DATABASE_URL", f"has unsupported scheme '{db}'")
    if s.redis_url and urlparse(s.redis_url).scheme not in ("redis", "rediss"):
        raise _fail("REDIS_URL", "is not a redis:// URL")
    if urlparse(s.smtp_url).scheme not in ("smtp", "smtps"):
        raise _fail("SMTP_URL", "is not an smtp:// or smtps:// URL")
    for name, value in (("PUBLIC_URL", s.public_url), ("STRIPE_API_BASE", s.stripe_api_base)):
        if urlparse(value).scheme not in ("http", "https") or not urlparse(value).netloc:
            raise _fail(name, "is not an http(s) URL")
    if s.fiscal_status not in FISCAL_STATUSES:
        raise _fail("FISCAL_STATUS", f"is '{s.fiscal_status}'")
    try:
        ZoneInfo(s.outlet_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail("OUTLET_TIMEZONE", f"'{s.outlet_timezone}' is not a known time zone") from None
    if not s.stripe_secret_key.startswith(("sk_", "rk_")):
        raise _fail("STRIPE_SECRET_KEY", "does not look like a Stripe secret key")
    if not s.stripe_webhook_secret.startswith("whsec_"):
        raise _fail("STRIPE_WEBHOOK_SECRET", "does not start with whsec_")
    live = s.stripe_secret_key.startswith(LIVE_KEY_PREFIXES)
    if live and not s.is_production:
        raise _fail("STRIPE_SECRET_KEY", f"is a live key but APP_ENV is {s.mode}",
                    "use a test key (sk_test_...) here, or set APP_ENV=production")
    if live and urlparse(s.stripe_api_base).scheme != "https":
        raise _fail("STRIPE_API_BASE", f"is {s.stripe_api_base} (not https) with a live Stripe key",
                    f"set it to {PRODUCTION_STRIPE_API_BASE} or leave it unset in production")
    if s.is_production:
        if len(s.secret_key) < 32:
            raise _fail("SECRET_KEY", "is shorter than 32 characters")
        if looks_like_example_secret(s.secret_key):
            raise _fail("SECRET_KEY", "is an example or placeholder value, not a secret")
        if s.fiscal_status == "nonprofit" and not s.outlet_ein:
            raise _fail("OUTLET_EIN", "is required when FISCAL_STATUS=nonprofit")


def load_settings(environ: Mapping[str, str] | None = None, var_dir: Path = VAR_DIR, **overrides: Any) -> Settings:
    """Defaults -> environment -> explicit overrides (tests) -> generated secrets, then validation."""
    env = os.environ if environ is None else environ
    mode = overrides.pop("mode", None) or env.get("APP_ENV", "development").strip() or "development"
    if mode not in MODES:
        raise ConfigError(f"APP_ENV is '{mode}': set it to one of {', '.join(MODES)}")
    values = _read(env, mode)
    known = {f.name for f in fields(Settings)}
    values.update({k: v for k, v in overrides.items() if k in known})
    if isinstance(values.get("embed_allowed_origins"), str):  # an override written as the env var is
        values["embed_allowed_origins"] = _origins(values["embed_allowed_origins"])
    _secrets(values, mode, var_dir)
    settings = Settings(**values)
    if settings.redis_url and "broker_url" not in overrides and not env.get("BROKER_URL"):
        settings = replace(settings, broker_url=settings.redis_url)
    _validate(settings)
    return settings
