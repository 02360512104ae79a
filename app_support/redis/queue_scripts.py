"""Lua for JobQueue: every state change of a job is one atomic script on one slot.

Keys of queue ``q`` share the hash tag ``{q}`` so the scripts run in cluster mode; per-job hashes
(``queue:{q}:job:<id>``) are derived from a declared prefix and hash to the same slot. Times come
from the server (``TIME``), so worker clocks do not matter.
"""

from __future__ import annotations

__all__ = ["ACK", "ENQUEUE", "EXTEND", "RESERVE"]

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: waiting, job. ARGV: id, payload. Returns 1 if enqueued, 0 if the id already exists.
ENQUEUE = (
    _NOW
    + """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'state', 'waiting', 'payload', ARGV[2],
           'attempts', 0, 'enqueued_at', now)
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
"""
)

# KEYS: waiting, active, stats. ARGV: job key prefix, lease ms, max attempts, finished ttl s.
# First puts jobs whose lease ran out (their worker died) back at the head of the queue, or
# fails them after max attempts; then leases the next job. Returns {id, payload, attempt} or nil.
RESERVE = (
    _NOW
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  local job = ARGV[1] .. id
  local attempts = tonumber(redis.call('HGET', job, 'attempts') or '0')
  if attempts >= tonumber(ARGV[3]) then
    redis.call('HSET', job, 'state', 'failed', 'finished_at', now,
               'reason', 'lease expired after ' .. attempts .. ' attempt(s)')
    redis.call('EXPIRE', job, ARGV[4])
    redis.call('HINCRBY', KEYS[3], 'failed', 1)
  else
    redis.call('HSET', job, 'state', 'waiting')
    redis.call('LPUSH', KEYS[1], id)
  end
end
local id = redis.call('LPOP', KEYS[1])
if not id then return false end
local job = ARGV[1] .. id
local attempt = redis.call('HINCRBY', job, 'attempts', 1)
redis.call('HSET', job, 'state', 'active', 'started_at', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
return {id, redis.call('HGET', job, 'payload'), attempt}
"""
)

# KEYS: active, stats, job. ARGV: id, attempt, final state, reason, finished ttl s.
# Returns 1 when acknowledged (or already acknowledged by this attempt: a retried call),
# 0 when the lease was lost (the job was handed to another worker or already finished).
ACK = (
    _NOW
    + """
local state = redis.call('HGET', KEYS[3], 'state')
local attempts = redis.call('HGET', KEYS[3], 'attempts')
if attempts ~= ARGV[2] then return 0 end
if state == ARGV[3] then return 1 end
if state ~= 'active' then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[3], 'state', ARGV[3], 'reason', ARGV[4], 'finished_at', now)
redis.call('EXPIRE', KEYS[3], ARGV[5])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
return 1
"""
)

# KEYS: active, job. ARGV: id, attempt, lease ms. Returns 1 if the lease was extended.
EXTEND = (
    _NOW
    + """
if redis.call('HGET', KEYS[2], 'state') ~= 'active'
   or redis.call('HGET', KEYS[2], 'attempts') ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[3]), ARGV[1])
return 1
"""
)
