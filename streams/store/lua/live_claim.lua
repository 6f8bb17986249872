-- An account's live subscriptions (streams/store/live.py): a sorted set of subscription
-- id -> lease expiry (Redis's clock, ms). Expired leases (their process died) are
-- dropped before counting; a subscription renews its own while it lasts.
-- KEYS: the account's slots; ARGV: subscription id, lease ms, cap
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[3]) then return {0, held} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, held + 1}
