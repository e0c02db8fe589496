"""Property-based contract test of every operation in /api/openapi.json (schemathesis).

Bounded and deterministic: 25 examples per operation, derandomised, no example
database. Calls go through the WSGI app in-process with a signed-in reader (cookie
+ CSRF header) and an admin staff token, so bodies get past the guards and reach
validation and the services; Stripe is the simulator over HTTP. Operations that end
the session (sign-out, erase) are excluded here and tested in tests/readers.
Checks: no 5xx, documented status codes and content types, responses match schemas.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (  # type: ignore[attr-defined]
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from membership.demo import seed_catalogue
from membership.enums import StaffRole
from membership.extensions import db
from membership.staff.services import create_staff_user
from tests.readers.helpers import new_client, sign_up_and_confirm, unique_email

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXCLUDED = re.compile(r"^/api/(signout|signout-everywhere|me/erase)$")
RELAXED_LIMITS = {f"RATELIMIT_{name}": "100000/hour" for name in (
    "SIGNUP_PER_IP", "SIGNUP_PER_EMAIL", "SIGNIN_PER_IP", "SIGNIN_PER_EMAIL", "CHECKOUT_PER_IP", "CHECKOUT_PER_READER")}


@pytest.fixture
def api_schema(app: Flask, db_session: Any, stripe_sim: Any) -> Any:
    seed_catalogue()
    db_session.commit()
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture
def auth_headers(app: Flask, api_schema: Any) -> Any:
    reader = new_client(app)
    out = sign_up_and_confirm(reader, unique_email("st"))
    cookie = reader.get_cookie("session")
    assert cookie is not None
    _staff, token = create_staff_user(unique_email("admin"), StaffRole.ADMIN)
    db.session.commit()
    app.config.update(RELAXED_LIMITS)
    yield {"cookies": {"session": cookie.value},
           "headers": {"X-CSRF-Token": out["csrf_token"], "Authorization": f"Bearer {token}"}}
    for key in RELAXED_LIMITS:
        app.config.pop(key, None)


def _operations() -> list[tuple[str, str, GenerationMode]]:
    """Every registered operation (importing the blueprints registers them), positive and,
    when it takes any input, negative (invalid data must be a documented 4xx)."""
    import membership.billing.notices.views
    import membership.billing.reader_views
    import membership.billing.staff_views
    import membership.newsletters.staff_views
    import membership.readers.views
    import membership.reports.routes
    import membership.staff.views  # noqa: F401
    from membership.api import REGISTRY

    out = []
    for op in sorted(REGISTRY.operations, key=lambda o: (o.path, o.method)):
        if EXCLUDED.match(op.path):
            continue
        out.append((op.path, op.method, GenerationMode.POSITIVE))
        if op.body or op.query or op.path_params:
            out.append((op.path, op.method, GenerationMode.NEGATIVE))
    return out


# Driven per operation with hypothesis directly: schemathesis' own pytest plugin
# (from_fixture/parametrize) does not work with pytest 9's node ids.
@pytest.mark.slow
@pytest.mark.parametrize(("path", "method", "mode"), _operations())
def test_api_contract(path: str, method: str, mode: GenerationMode, api_schema: Any,
                      auth_headers: dict[str, Any]) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.filter_too_much])
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, **auth_headers)

    run()
