"""Redis for the app in standalone, Sentinel and Cluster mode, surviving failover.

Start with ``RedisSettings.from_env()`` and ``create_client`` / ``create_async_client``; the
primitives (cache, job queues, sessions, rate limiting) and the health check take a client.
"""

from app_support.redis.cache import Cache
from app_support.redis.durability import Durability
from app_support.redis.errors import RedisConfigError, WriteNotConfirmedError, WriteRefusedError
from app_support.redis.factory import (
    AsyncRedisClient,
    SyncRedisClient,
    create_async_client,
    create_client,
)
from app_support.redis.failover import CommandHook, FailoverPolicy
from app_support.redis.health import redis_health, redis_health_sync
from app_support.redis.queue import QUEUE_NAMES, Job, JobQueue, JobState, JobStatus, SyncJobQueue
from app_support.redis.ratelimit import RateLimitDecision, RateLimiter, SyncRateLimiter
from app_support.redis.sessions import SessionStore
from app_support.redis.settings import RedisMode, RedisSettings

__all__ = [
    "QUEUE_NAMES",
    "AsyncRedisClient",
    "Cache",
    "CommandHook",
    "Durability",
    "FailoverPolicy",
    "Job",
    "JobQueue",
    "JobState",
    "JobStatus",
    "RateLimitDecision",
    "RateLimiter",
    "RedisConfigError",
    "RedisMode",
    "RedisSettings",
    "SessionStore",
    "SyncJobQueue",
    "SyncRateLimiter",
    "SyncRedisClient",
    "WriteNotConfirmedError",
    "WriteRefusedError",
    "create_async_client",
    "create_client",
    "redis_health",
    "redis_health_sync",
]
