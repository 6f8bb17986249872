-- A sliding-window log of one caller's requests (streams/store/accounts.py): the times
-- (Redis's clock, microseconds) of those admitted within the last window, so no
-- window-long stretch, wherever it starts, holds more than the limit. A refused request
-- is not logged: a client that keeps knocking is let in as soon as the oldest ages out.
-- Returns {admitted 0/1, requests in the window, microseconds until a slot frees}.
-- Prefixed to admit.lua and authenticate.lua, which call it.
local function admit(log, limit, window, nonce)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  local used = redis.call('ZCARD', log)
  if used < limit then
    redis.call('ZADD', log, now, nonce)
    redis.call('PEXPIRE', log, math.ceil(window / 1000))
    return {1, used + 1, 0}
  end
  local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  return {0, used, math.max(1, tonumber(oldest[2]) + window - now)}
end
