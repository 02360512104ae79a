"""The exception types of app_support.redis.

Configuration problems are ``ValueError`` (they are bad values); runtime problems are
``redis.exceptions.RedisError`` so code that already catches redis-py errors keeps working.
"""

from __future__ import annotations

from redis.exceptions import RedisError

__all__ = ["RedisConfigError", "WriteNotConfirmedError"]


class RedisConfigError(ValueError):
    """A Redis setting is missing or malformed.

    The message names the environment variable (and the keyword argument) and shows a good value.
    """

    def __init__(self, variable: str, problem: str, example: str) -> None:
        self.variable = variable
        self.example = example
        super().__init__(f"{variable}: {problem}; for example {variable}={example}")


class WriteNotConfirmedError(RedisError):
    """A write reached the master but fewer replicas than required acknowledged it in time.

    The write may still survive; callers of idempotent writes (job enqueue with a job id) retry.
    """

    def __init__(self, command: str, wanted: int, acknowledged: int) -> None:
        self.wanted = wanted
        self.acknowledged = acknowledged
        super().__init__(
            f"{command}: {acknowledged} of {wanted} replica(s) acknowledged the write (WAIT)"
        )
