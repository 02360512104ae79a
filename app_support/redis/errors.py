"""The exception types of app_support.redis.

Configuration problems are ``ValueError`` (they are bad values); runtime problems are
``redis.exceptions.RedisError`` so code that already catches redis-py errors keeps working.
"""

from __future__ import annotations

from redis.exceptions import RedisError, ResponseError

from app_support.values import ConfigError

__all__ = ["RedisConfigError", "WriteNotConfirmedError", "WriteRefusedError"]


class RedisConfigError(ConfigError):
    """A Redis setting is missing or malformed (a ValueError, like every config error).

    The message names the environment variable (and the keyword argument) and shows a good value.
    """


class WriteNotConfirmedError(RedisError):
    """A write reached the master but fewer replicas than required acknowledged it in time.

    The write may still survive; callers of idempotent writes (job enqueue with a job id) retry.
    Callers that must not report success (an upload answering 202) treat it as "not accepted".
    """

    def __init__(self, command: str, wanted: int, acknowledged: int, message: str = "") -> None:
        self.wanted = wanted
        self.acknowledged = acknowledged
        super().__init__(
            message
            or f"{command}: {acknowledged} of {wanted} replica(s) acknowledged the write (WAIT)"
        )


class WriteRefusedError(WriteNotConfirmedError, ResponseError):
    """The master refused the write with ``NOREPLICAS`` (``min-replicas-to-write`` not met) until
    the retry deadline ran out: nothing was written (a Lua script is stopped at its first write).

    A WriteNotConfirmedError (so one ``except`` covers both) and a ResponseError (what redis-py
    raised before). ``wanted`` is 0: the client does not know the server's minimum.
    """

    def __init__(self, command: str, reply: str) -> None:
        self.reply = reply
        super().__init__(command, 0, 0, f"{command}: the master refused the write ({reply})")
