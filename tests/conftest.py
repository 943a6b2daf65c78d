"""Test fixtures shared by every test: a real redis-server of the tests' own, and settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.bus import Bus
from shared.embedded_redis import EmbeddedRedis
from shared.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """One redis-server for the whole test run, on a free port (never 6379)."""
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """The test Redis's URL, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    """Settings that point at the test Redis and a fresh data folder, with quick timers."""
    return Settings(redis_url=redis_url, data_dir=tmp_path / "data", claim_idle_ms=300,
                    read_block_ms=100, heartbeat_interval_s=0.2, heartbeat_ttl_s=1.0,
                    lease_ttl_s=1.0)


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[Bus]:
    assert settings.redis_url
    bus = await Bus.connect(settings.redis_url, settings)
    yield bus
    await bus.close()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(redis_url)
    yield client
    await client.aclose()
