"""Values we must read back later, sealed at rest under keys derived from SECRET_KEY.

Fernet from `cryptography` (authenticated: a tampered value fails instead of opening to
garbage), with a key per purpose derived by HKDF-SHA256 from `SECRET_KEY` under the
caller's label, so a key derived for one purpose never opens another's values and none
of them is the cookie-signing key. Rotation: the current `SECRET_KEY` seals; the values
in Flask's `SECRET_KEY_FALLBACKS` still open (docs/security.md).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _derive(secret_key: str, label: bytes) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


@lru_cache(maxsize=16)
def _cipher(keys: tuple[str, ...], label: bytes) -> MultiFernet:
    return MultiFernet([_derive(k, label) for k in keys])


def sealer(label: bytes) -> MultiFernet:
    """This purpose's cipher: the current key first (it seals), then the fallbacks (they open)."""
    config = current_app.config
    fallbacks = tuple(str(k) for k in config.get("SECRET_KEY_FALLBACKS") or ())
    return _cipher((str(config["SECRET_KEY"]), *fallbacks), label)
