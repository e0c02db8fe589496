"""Standard Webhooks signatures for outbound deliveries.

The receiver checks `webhook-signature` = `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body"))
where key is the base64 part of the endpoint's `whsec_` secret, and refuses a
`webhook-timestamp` too far from its clock (replays). `webhook-id` is the same on every
try of one event, so a receiver that saw it already can answer 2xx and do nothing.
Written here rather than taken from a library because it is this short, and the tests
check it against the reference `standardwebhooks` package.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, msg_id, timestamp, body), "content-type": "application/json"}
