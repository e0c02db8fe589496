"""No string written in the repository signs anything: a real session cookie from a
development app (secret generated under var/) is tried against every string the
repository holds, and production refuses every example secret key the repository shows."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from membership import create_app
from membership.config import KNOWN_EXAMPLE_SECRETS, ConfigError, load_settings
from tests.test_config import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]
_QUOTED = re.compile(r"""(?:"([^"\n]{1,400})"|'([^'\n]{1,400})'|`([^`\n]{1,400})`)""")
_SECRET_EXAMPLE = re.compile(r"""SECRET_KEY[\"']?\s*[:=]\s*[\"'`]?([^\s\"'`,)}]{8,})""", re.IGNORECASE)


def repository_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def repository_strings() -> set[str]:
    """Every quoted string and every whitespace-separated word (stripped of punctuation)."""
    found: set[str] = set()
    for path in repository_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for match in _QUOTED.finditer(text):
            found.add(next(g for g in match.groups() if g is not None))
        for word in text.split():
            found.add(word)
            found.add(word.strip("\"'`,;:()[]{}<>="))
    found.discard("")
    return found


@pytest.fixture
def development_app(tmp_path: Path) -> Iterator[Flask]:
    settings = load_settings({"APP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"},
                             var_dir=tmp_path / "var")
    app = create_app(settings)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        from membership.extensions import db

        db.engine.dispose()


def test_no_string_in_the_repository_signs_a_real_session_cookie(development_app: Flask) -> None:
    response = development_app.test_client().get("/signin")
    assert response.status_code == 200
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    value = cookie.split(";", 1)[0].removeprefix("session=")

    interface = SecureCookieSessionInterface()
    real = interface.get_signing_serializer(development_app)
    assert real is not None and "csrf" in real.loads(value)  # the control: the app's own key verifies it

    candidates = repository_strings()
    assert len(candidates) > 5000  # the scan really read the repository
    signing_app = Flask("probe")
    verified = []
    for candidate in candidates:
        signing_app.secret_key = candidate
        serializer = interface.get_signing_serializer(signing_app)
        assert serializer is not None
        try:
            serializer.loads(value)
        except BadSignature:
            continue
        verified.append(candidate)
    assert verified == []


def test_production_refuses_every_example_secret_key_in_the_repository() -> None:
    examples = set()
    for path in repository_files():
        try:
            examples.update(m.group(1) for m in _SECRET_EXAMPLE.finditer(path.read_text()))
        except (UnicodeDecodeError, OSError):
            continue
    assert examples, "the scan found no example at all"
    for example in examples | KNOWN_EXAMPLE_SECRETS:
        with pytest.raises(ConfigError, match="^SECRET_KEY "):
            load_settings({**PRODUCTION_ENV, "SECRET_KEY": example})


def test_a_cookie_signed_with_the_previous_key_still_opens_during_rotation(tmp_path: Path) -> None:
    base = {"APP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"}
    old = create_app(load_settings(base, var_dir=tmp_path / "old"))
    cookie = old.test_client().get("/signin").headers["Set-Cookie"].split(";", 1)[0].removeprefix("session=")
    rotated_settings = load_settings({**base, "SECRET_KEY": "n" + load_settings(base, var_dir=tmp_path / "new").secret_key,
                                      "SECRET_KEY_FALLBACKS": old.config["SECRET_KEY"]}, var_dir=tmp_path / "new")
    rotated = create_app(rotated_settings)
    interface = SecureCookieSessionInterface()
    assert "csrf" in interface.get_signing_serializer(rotated).loads(cookie)  # type: ignore[union-attr]
    without = create_app(load_settings({**base, "SECRET_KEY": rotated_settings.secret_key}, var_dir=tmp_path / "new"))
    with pytest.raises(BadSignature):
        interface.get_signing_serializer(without).loads(cookie)  # type: ignore[union-attr]
