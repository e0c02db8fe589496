"""The global send rate: one token bucket in Redis shared by every sender."""

from __future__ import annotations

import uuid
from typing import Any

import redis

from membership.newsletters.ratelimit import LocalBucket, RedisBucket


def test_two_senders_share_one_bucket(redis_url: str, app_settings: dict[str, Any]) -> None:
    client = redis.Redis.from_url(redis_url)
    key = f"{app_settings['broker_key_prefix']}ratelimit-test:{uuid.uuid4().hex}"
    try:
        # 10 messages/s with a burst of 20, as two workers would see it.
        first, second = RedisBucket(client, key, 10, 20), RedisBucket(client, key, 10, 20)
        assert first.reserve(15) == 0.0
        assert second.reserve(5) == 0.0  # the burst is used up between them ...
        wait = second.reserve(10)
        assert 0.9 < wait <= 1.0  # ... so 10 more must wait ~1 s, whoever asks
        assert first.reserve(10) > wait  # and reservations queue up behind each other
        assert client.pttl(key) > 0  # the key cleans itself up
    finally:
        client.delete(key)
        client.close()


def test_local_bucket_for_the_embedded_default() -> None:
    bucket = LocalBucket(rate=100, burst=10)
    assert bucket.reserve(10) == 0.0
    assert 0.09 < bucket.reserve(10) <= 0.1
