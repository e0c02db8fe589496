"""Readers and their consents."""

from __future__ import annotations

import factory

from membership.db import utcnow
from membership.identity.models import Consent, ConsentKind, Reader
from tests.factories.base import Factory


class ReaderFactory(Factory):
    class Meta:
        model = Reader

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    name = factory.Sequence(lambda n: f"Reader {n}")
    email_verified_at = factory.LazyFunction(utcnow)


class ConsentFactory(Factory):
    class Meta:
        model = Consent

    reader_id = factory.LazyAttribute(lambda o: ReaderFactory().id)
    kind = ConsentKind.TERMS
    text_version = "terms-2026-01"
    source = "test"
