"""Secrets this package must read back later, sealed at rest: outbound webhook signing
secrets and the private halves of token-signing keys.

Why sealed and not hashed: unlike an API key (which we only compare), these are used to
sign, so we need the value. Why a separate label from mail's sealed links: a key derived
for one purpose never opens another's values. Same rotation as mail/secrets.py: the
current SECRET_KEY seals, SECRET_KEY_FALLBACKS still open.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_LABEL = b"membership integrations: sealed secrets v1"


class SealedUnreadable(ValueError):
    """No configured SECRET_KEY opens the value (the old key was dropped too early)."""


def _derive(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_derive(k) for k in keys])


def _current() -> MultiFernet:
    config = current_app.config
    fallbacks = tuple(str(k) for k in config.get("SECRET_KEY_FALLBACKS") or ())
    return _cipher((str(config["SECRET_KEY"]), *fallbacks))


def seal(value: bytes) -> str:
    return _current().encrypt(value).decode()


def unseal(sealed: str) -> bytes:
    try:
        return _current().decrypt(sealed.encode())
    except InvalidToken:
        raise SealedUnreadable("a sealed integration secret opens under no configured SECRET_KEY") from None
