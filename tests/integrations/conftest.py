from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from membership.enums import StaffRole
from tests.integrations.receiver import Receiver, start
from tests.readers.conftest import catalogue, member_client, rclient, stripe  # noqa: F401
from tests.staff.helpers import bearer


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    server, thread = start(rec)
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def admin(db_session: Any) -> dict[str, str]:
    return bearer(StaffRole.ADMIN)
