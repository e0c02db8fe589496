"""Newsletters and opt-ins."""

from __future__ import annotations

import factory

from membership.db import utcnow
from membership.newsletters.models import Newsletter, NewsletterSubscription, OptInStatus
from tests.factories.base import Factory
from tests.factories.readers import ReaderFactory


class NewsletterFactory(Factory):
    class Meta:
        model = Newsletter

    slug = factory.Sequence(lambda n: f"letter-{n}")
    name = factory.Sequence(lambda n: f"Letter {n}")


class NewsletterSubscriptionFactory(Factory):
    class Meta:
        model = NewsletterSubscription

    reader_id = factory.LazyAttribute(lambda o: ReaderFactory().id)
    newsletter_id = factory.LazyAttribute(lambda o: NewsletterFactory().id)
    status = OptInStatus.CONFIRMED
    confirmed_at = factory.LazyFunction(utcnow)
