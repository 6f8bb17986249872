-- A live subscription's lease renewed, even if it lapsed meanwhile (a Redis outage):
-- the subscription is still live.
-- KEYS: the account's slots; ARGV: subscription id, lease ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
