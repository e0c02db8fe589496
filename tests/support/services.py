"""Reaching the real PostgreSQL and Redis the tests run against.

Under CI=true a missing service is a failure, never a skip: CI must prove the
PostgreSQL/Redis paths on every run.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
import redis

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, why: Exception) -> None:
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(message + "; CI requires it", pytrace=False)
    pytest.skip(message)


def create_database() -> str:
    """A fresh, uniquely named database per test run, so parallel runs never collide."""
    name = f"membership_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def check_redis() -> None:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
