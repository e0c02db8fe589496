"""/healthz and /readyz against real PostgreSQL and Redis, and with each one down."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from membership import create_app
from membership.extensions import db


def probe(app: Flask) -> Any:
    """GET /readyz on a one-off app, then close its pool (no connection left to the GC)."""
    try:
        return app.test_client().get("/readyz")
    finally:
        with app.app_context():
            db.engine.dispose()


def test_healthz_answers_without_touching_services(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["X-Request-ID"]


def test_readyz_ready_on_postgres_and_redis(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_names_the_broker_when_redis_is_down(app_settings: dict[str, Any]) -> None:
    app = create_app(**{**app_settings, "redis_url": "redis://127.0.0.1:1/0"})
    response = probe(app)
    assert response.status_code == 503
    assert response.json["down"] == ["broker"]
    assert response.json["checks"]["database"] == "ok"


def test_readyz_names_the_database_when_it_is_unreachable(app_settings: dict[str, Any]) -> None:
    app = create_app(**{**app_settings, "database_url": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    response = probe(app)
    assert response.status_code == 503
    body = json.loads(response.data)
    assert body["down"] == ["database"] and body["checks"]["database"].startswith("down: ")


def test_readyz_on_the_embedded_default(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/readyz")
    assert response.status_code == 200, response.json


def test_unknown_route_is_a_problem_document(client: FlaskClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404 and response.json["title"] == "Not Found"
