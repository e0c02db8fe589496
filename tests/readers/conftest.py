from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from membership.demo import seed_catalogue
from tests.readers.helpers import new_client


@pytest.fixture
def catalogue(db_session: Any) -> None:
    seed_catalogue()
    db_session.commit()


@pytest.fixture
def rclient(app: Flask, db_session: Any, catalogue: None) -> FlaskClient:
    return new_client(app)


@pytest.fixture
def member_client(app: Flask, rclient: FlaskClient, stripe_sim: Any) -> FlaskClient:
    """A confirmed, signed-in reader (with CSRF header) and the Stripe simulator running."""
    from tests.readers.helpers import sign_up_and_confirm

    sign_up_and_confirm(rclient)
    return rclient


@pytest.fixture
def stripe(app: Flask, stripe_sim: Any) -> Any:
    from membership.billing.gateway import stripe_client

    with app.app_context():
        return stripe_client()
