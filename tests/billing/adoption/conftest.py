"""An app whose Stripe is a simulator of its own (the session's sim holds other tests'
objects, and adoption reads a whole account), and a database emptied around each test
(adoption commits as it goes, like the command)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from membership import create_app
from membership.extensions import db
from tests.billing.adoption.account import Account, build
from tests.billing.adoption.support import truncate
from tests.conftest import WEBHOOK_SECRET


@pytest.fixture(scope="module")
def own_sim() -> Iterator[Any]:
    from stripe_sim import SimServer

    sim = SimServer(port=0, webhook_secret=WEBHOOK_SECRET).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def adopt_app(app: Flask, app_settings: dict[str, Any], own_sim: Any) -> Iterator[Flask]:
    """`app` (the session's) has migrated the database; this one talks to `own_sim`."""
    application = create_app(**{**app_settings, "stripe_api_base": own_sim.url})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def account(adopt_app: Flask) -> Account:
    with adopt_app.app_context():
        return build()


@pytest.fixture
def fresh_db(adopt_app: Flask, account: Account) -> Iterator[Account]:
    with adopt_app.app_context():
        truncate()
        yield account
        truncate()
