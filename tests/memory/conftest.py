"""Memory fixtures: a real Redis database (the run's flushed one, or TEST_MEMORY_REDIS_URL).

The database is flushed before and after each test. Unreachable Redis skips these tests
locally and fails them when CI is set.
"""

import os

import pytest
import redis

from memory import MemoryStore
from tests.conftest import FLUSHED_REDIS_URL

REDIS_URL = os.environ.get("TEST_MEMORY_REDIS_URL") or FLUSHED_REDIS_URL
NAMESPACE = "memtest"


@pytest.fixture
def memory_redis():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI requires it)", pytrace=False)
        pytest.skip(message)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def make_store(memory_redis):
    def make(**options) -> MemoryStore:
        return MemoryStore(memory_redis, NAMESPACE, **options)
    return make


@pytest.fixture
def store(make_store) -> MemoryStore:
    return make_store()


@pytest.fixture
def stream_length(memory_redis):
    return lambda: memory_redis.xlen(f"{NAMESPACE}:memevents")
