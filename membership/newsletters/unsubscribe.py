"""Unguessable, stateless unsubscribe tokens over (reader_id, newsletter_id).

A token is base64url(reader_id:8 bytes | newsletter_id:4 bytes | HMAC-SHA256[:16]),
keyed by a key derived from the app secret. 128 bits of MAC make it unguessable; no
table is needed, so the link keeps working as long as the secret does (CAN-SPAM asks
for 30 days at least). Every token has the same length (38 characters), which lets the
sender pre-render a campaign once and substitute the token byte-for-byte.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

from flask import current_app

TOKEN_LENGTH = 38
_PACK = struct.Struct(">QI")
_MAC_BYTES = 16


def _key(secret: str | None = None) -> bytes:
    secret = secret if secret is not None else current_app.config["SETTINGS"].secret_key
    return hmac.new(secret.encode(), b"newsletters.unsubscribe.v1", hashlib.sha256).digest()


def make_token(reader_id: int, newsletter_id: int, secret: str | None = None) -> str:
    payload = _PACK.pack(reader_id, newsletter_id)
    mac = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")


def read_token(token: str, secret: str | None = None) -> tuple[int, int] | None:
    """(reader_id, newsletter_id) for a genuine token, else None (never raises)."""
    if len(token) != TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _PACK.size + _MAC_BYTES:
        return None
    payload, mac = raw[: _PACK.size], raw[_PACK.size :]
    expected = hmac.new(_key(secret), payload, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        return None
    reader_id, newsletter_id = _PACK.unpack(payload)
    return int(reader_id), int(newsletter_id)


def unsubscribe_url(token: str) -> str:
    base = current_app.config["SETTINGS"].public_url.rstrip("/")
    return f"{base}/u/{token}"
