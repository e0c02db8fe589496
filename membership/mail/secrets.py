"""Secrets inside notice rows (sign-in and confirmation links, gift codes), sealed until the send.

Why: a notice is a row first and mail second, so a magic link or gift code waits in the
database from the request that made it until a worker sends it (longer when the relay
defers). Anyone reading the table, a backup or a replica in that window could sign in as
the reader or redeem the gift. The values under `SECRET_KEYS` are therefore encrypted in
`notices.context`, opened only to render the message, and replaced by `[redacted]` once
the row reaches a final status (mail/sending.py); the stored copy of the message never
holds them in the clear.

How: Fernet from `cryptography` (AES-128-CBC with HMAC-SHA256: authenticated, so a
tampered value fails instead of decrypting to garbage), with a key derived by
HKDF-SHA256 from `SECRET_KEY` under its own label, so the cookie-signing key and this
key are independent though both come from one setting. Rotation: move the old value to
Flask's `SECRET_KEY_FALLBACKS` (a list); values sealed under any of them still open, new
ones are sealed under the current key. A value that opens under none (the old key was
dropped too early) makes the notice fail with a clear error rather than mail a broken
link. Values without the `sealed:v1:` prefix are rows written before this existed and are
read as they are.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet

from membership.sealing import sealer

SECRET_KEYS = ("link", "code")
PREFIX = "sealed:v1:"
_LABEL = b"membership notices: sealed secrets v1"


class SecretUnreadable(ValueError):
    """A sealed value no configured key opens: the row fails instead of mailing garbage."""


def cipher() -> MultiFernet:
    """The current key first (it seals), then Flask's SECRET_KEY_FALLBACKS (they only open)."""
    return sealer(_LABEL)


def seal(context: dict[str, Any]) -> dict[str, Any]:
    """A copy of the context with its secret values encrypted."""
    out = dict(context)
    for key in SECRET_KEYS:
        value = out.get(key)
        if value and not str(value).startswith(PREFIX):
            out[key] = PREFIX + cipher().encrypt(str(value).encode()).decode()
    return out


def unseal(context: dict[str, Any]) -> dict[str, Any]:
    """A copy of the context with its secret values readable; SecretUnreadable if one is not."""
    out = dict(context)
    for key in SECRET_KEYS:
        value = out.get(key)
        if isinstance(value, str) and value.startswith(PREFIX):
            try:
                out[key] = cipher().decrypt(value.removeprefix(PREFIX).encode()).decode()
            except InvalidToken:
                raise SecretUnreadable(f"the sealed '{key}' opens under no configured SECRET_KEY") from None
    return out


def reveal(context_json: str | None, key: str) -> str:
    """One secret of a stored context, readable (the send path, operators, tests)."""
    return str(unseal(json.loads(context_json or "{}")).get(key, ""))
