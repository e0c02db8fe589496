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
