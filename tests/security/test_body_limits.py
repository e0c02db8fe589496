"""Every route caps its request body (1 MiB; the Stripe webhook 4 MiB) and refuses a
larger one with a 413 problem before reading it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from membership.web.body_limits import DEFAULT_MAX_BODY, WEBHOOK_MAX_BODY


class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that remembers how much of it was read."""

    def __init__(self, size: int) -> None:
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"a" * n
        self.read_bytes += n
        return n


@pytest.mark.parametrize(("path", "limit"), [
    ("/api/signup", DEFAULT_MAX_BODY), ("/api/signin", DEFAULT_MAX_BODY), ("/signin", DEFAULT_MAX_BODY),
    ("/api/checkout", DEFAULT_MAX_BODY), ("/api/staff/comps", DEFAULT_MAX_BODY),
    ("/webhooks/stripe", WEBHOOK_MAX_BODY),
])
def test_a_body_over_the_cap_is_refused_unread(client: Any, path: str, limit: int) -> None:
    body = CountingStream(64 * 1024 * 1024)
    res = client.post(path, content_type="application/json",
                      environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(body.size)})
    assert res.status_code == 413
    assert res.mimetype == "application/problem+json"
    assert f"at most {limit} bytes" in res.get_json()["detail"]
    assert body.read_bytes == 0


def test_a_body_just_over_the_cap_is_refused_and_one_under_is_read(client: Any) -> None:
    over = client.post("/api/signup", data=b"x" * (DEFAULT_MAX_BODY + 1), content_type="application/json")
    assert over.status_code == 413
    under = client.post("/api/signup", data=b"{" + b" " * 1000 + b"}", content_type="application/json")
    assert under.status_code == 422  # read and validated: the cap did not get in the way


def test_the_webhook_takes_an_event_larger_than_the_default_cap(client: Any, app: Flask) -> None:
    from tests.billing.webhook_support import event_body, post

    padding = "p" * (2 * DEFAULT_MAX_BODY)
    body = event_body("customer.created", {"id": "cus_large", "object": "customer", "metadata": {"pad": padding}})
    assert post(client, body).status_code == 200


def test_a_chunked_body_without_a_length_is_cut_at_the_cap(client: Any) -> None:
    body = CountingStream(8 * DEFAULT_MAX_BODY)
    res = client.post("/api/signup", content_type="application/json", headers={"Transfer-Encoding": "chunked"},
                      environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
    assert res.status_code == 413
    assert body.read_bytes <= DEFAULT_MAX_BODY + 64 * 1024
