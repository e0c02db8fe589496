"""Settings: production refuses bad config with one clear line; development fills defaults."""

from __future__ import annotations

import os
import secrets
import stat
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
    "SECRET_KEY": secrets.token_urlsafe(48),
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


def test_development_fills_the_embedded_default(tmp_path: Path) -> None:
    settings = load_settings({}, var_dir=tmp_path)
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


def test_development_makes_its_secrets_once_under_var_and_reuses_them(tmp_path: Path) -> None:
    first = load_settings({}, var_dir=tmp_path)
    again = load_settings({}, var_dir=tmp_path)
    assert len(first.secret_key) >= 32 and first.stripe_webhook_secret.startswith("whsec_")
    assert (again.secret_key, again.stripe_webhook_secret) == (first.secret_key, first.stripe_webhook_secret)
    for name in ("secret_key", "stripe_webhook_secret"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert load_settings({}, var_dir=tmp_path / "elsewhere").secret_key != first.secret_key


def test_tests_get_a_fresh_random_secret_per_process(tmp_path: Path) -> None:
    one, two = load_settings({"APP_ENV": "test"}, var_dir=tmp_path), load_settings({"APP_ENV": "test"}, var_dir=tmp_path)
    assert one.secret_key != two.secret_key and len(one.secret_key) >= 32
    assert not list(tmp_path.iterdir())  # nothing written outside development


@pytest.mark.parametrize("key", ["sk_live_abc", "rk_live_abc"])
@pytest.mark.parametrize("mode", ["development", "test"])
def test_a_live_stripe_key_outside_production_is_refused(key: str, mode: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"^STRIPE_SECRET_KEY is a live key but APP_ENV is {mode}: use a test key"):
        load_settings({"APP_ENV": mode, "STRIPE_SECRET_KEY": key}, var_dir=tmp_path)


def test_a_live_key_with_a_plain_http_api_base_is_refused() -> None:
    with pytest.raises(ConfigError, match="^STRIPE_API_BASE is http://127.0.0.1:12111 .*not https.*: set it to https://"):
        load_settings({**PRODUCTION_ENV, "STRIPE_API_BASE": "http://127.0.0.1:12111"})


def test_production_talks_to_stripe_itself_unless_told_otherwise() -> None:
    assert load_settings(PRODUCTION_ENV).stripe_api_base == "https://api.stripe.com"
    staging = load_settings({**PRODUCTION_ENV, "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_API_BASE": "http://sim:12111"})
    assert staging.stripe_api_base == "http://sim:12111"  # a test key may point at a simulator


@pytest.mark.parametrize("value", ["x" * 40, "dev-only-secret-key-change-me-0000000000",
                                   "please-change-me-to-something-random-0123456789",
                                   "0123456789" * 4])
def test_production_refuses_example_and_placeholder_secret_keys(value: str) -> None:
    with pytest.raises(ConfigError, match="^SECRET_KEY is an example or placeholder value"):
        load_settings({**PRODUCTION_ENV, "SECRET_KEY": value})


def test_trusted_proxy_hops_is_a_whole_number() -> None:
    assert load_settings({**PRODUCTION_ENV, "TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
    with pytest.raises(ConfigError, match="^TRUSTED_PROXY_HOPS is not a whole number"):
        load_settings({**PRODUCTION_ENV, "TRUSTED_PROXY_HOPS": "one"})


def test_secret_key_fallbacks_for_rotation() -> None:
    old = secrets.token_urlsafe(48)
    settings = load_settings({**PRODUCTION_ENV, "SECRET_KEY_FALLBACKS": f"{old}  {old[::-1]}"})
    assert settings.secret_key_fallbacks == (old, old[::-1])
