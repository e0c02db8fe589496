"""A global send rate (messages/s) shared by every worker: a token bucket in Redis.

Celery's `rate_limit` is per worker, so N workers would send N times the rate. Here
each sender reserves tokens from one bucket with a Lua script (atomic, one round trip,
Redis' own clock so hosts need not agree on time). Reservations may drive the bucket
negative; the script answers how long the caller must wait before sending, which
spaces all senders out fairly without polling. Senders reserve small batches to keep
Redis round trips far below one per message.

Without Redis (the embedded default runs one worker on SQLite) the same bucket lives
in process memory.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate) - n
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 60000)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class Bucket(Protocol):
    def reserve(self, n: int) -> float:
        """Take n tokens; return seconds to wait before using them."""
        ...


class RedisBucket:
    def __init__(self, client: redis.Redis, key: str, rate: float, burst: float) -> None:
        self.key, self.rate, self.burst = key, rate, burst
        self._script = client.register_script(_LUA)

    def reserve(self, n: int) -> float:
        return float(self._script(keys=[self.key], args=[self.rate, self.burst, n]))


class LocalBucket:
    """The same algorithm for one process (embedded default, no Redis)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.ts = burst, time.monotonic()
        self.lock = threading.Lock()

    def reserve(self, n: int) -> float:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.ts) * self.rate) - n
            self.ts = now
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class SendRate:
    """What a sender calls before each message: `wait()` blocks until it may send."""

    def __init__(self, bucket: Bucket, rate: float) -> None:
        self.bucket = bucket
        self.batch = max(1, min(25, int(rate / 40)))  # ~25 ms of traffic per reservation
        self._left = 0

    def wait(self) -> None:
        if self._left == 0:
            delay = self.bucket.reserve(self.batch)
            self._left = self.batch
            if delay > 0:
                time.sleep(min(delay, 30.0))
        self._left -= 1


_local: dict[tuple[float, float], LocalBucket] = {}


def local_bucket(rate: float, burst: float) -> LocalBucket:
    return _local.setdefault((rate, burst), LocalBucket(rate, burst))
