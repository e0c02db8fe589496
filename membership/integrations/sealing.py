"""Secrets this package must read back later, sealed at rest: outbound webhook signing
secrets and the private halves of token-signing keys.

Why sealed and not hashed: unlike an API key (which we only compare), these are used to
sign, so we need the value. Why a separate label from mail's sealed links: a key derived
for one purpose never opens another's values. Same rotation as mail/secrets.py: the
current SECRET_KEY seals, SECRET_KEY_FALLBACKS still open.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet

from membership.sealing import sealer

_LABEL = b"membership integrations: sealed secrets v1"


class SealedUnreadable(ValueError):
    """No configured SECRET_KEY opens the value (the old key was dropped too early)."""


def _current() -> MultiFernet:
    return sealer(_LABEL)


def seal(value: bytes) -> str:
    return _current().encrypt(value).decode()


def unseal(sealed: str) -> bytes:
    try:
        return _current().decrypt(sealed.encode())
    except InvalidToken:
        raise SealedUnreadable("a sealed integration secret opens under no configured SECRET_KEY") from None
