"""Settings: production refuses bad config with one clear line; development fills defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from membership.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://u@db/x",
    "REDIS_URL": "redis://cache:6379/0",
    "SECRET_KEY": "x" * 40,
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "SMTP_URL": "smtp://relay:587",
    "PUBLIC_URL": "https://members.example.org",
    "OUTLET_NAME": "The Example",
    "OUTLET_POSTAL_ADDRESS": "1 Main St",
    "OUTLET_TIMEZONE": "America/Chicago",
    "FISCAL_STATUS": "nonprofit",
    "OUTLET_EIN": "12-3456789",
}


def test_development_fills_the_embedded_default() -> None:
    settings = load_settings({})
    assert settings.mode == "development"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("var/membership.db")
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.rate_limit_storage_url == "memory://"


def test_production_with_everything_set_loads_and_uses_redis_as_broker() -> None:
    settings = load_settings(PRODUCTION_ENV)
    assert settings.is_production
    assert settings.broker_url == "redis://cache:6379/0"


@pytest.mark.parametrize("name", ["DATABASE_URL", "SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "OUTLET_TIMEZONE"])
def test_production_names_the_missing_setting(name: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    with pytest.raises(ConfigError, match=f"^{name} is not set: set it to "):
        load_settings(env)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("OUTLET_TIMEZONE", "Mars/Olympus", "is not a known time zone"),
        ("DATABASE_URL", "mysql://x/y", "unsupported scheme"),
        ("FISCAL_STATUS", "charity", "is 'charity'"),
        ("SECRET_KEY", "short", "shorter than 32"),
        ("PAST_DUE_GRACE_DAYS", "two weeks", "not a whole number"),
    ],
)
def test_production_names_the_malformed_setting(name: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} .*{problem}"):
        load_settings({**PRODUCTION_ENV, name: value})


def test_start_up_with_bad_config_prints_one_line_and_exits_1() -> None:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    env.update({**PRODUCTION_ENV, "SECRET_KEY": ""})
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["configuration error: SECRET_KEY is not set: set it to 32+ random characters, "
                     "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"]
