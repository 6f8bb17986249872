-- An account's live subscriptions (streams/store/live.py): a sorted set of subscription
-- id -> lease expiry (Redis's clock, ms). Expired leases (their process died) are
-- dropped before counting; a subscription renews its own while it lasts. The
-- subscriptions of one group (a console session's tabs: ids GROUP/TAB) count as one
-- slot between them, up to a number of tabs of their own.
-- KEYS: the account's slots; ARGV: subscription id, lease ms, cap, group ('' = none),
--       tabs a group may hold
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held, groups, tabs = 0, {}, 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local slash = string.find(member, '/', 1, true)
  if slash then
    local group = string.sub(member, 1, slash - 1)
    if group == ARGV[4] then tabs = tabs + 1 end
    if not groups[group] then
      groups[group] = true
      held = held + 1
    end
  else
    held = held + 1
  end
end
if ARGV[4] ~= '' and groups[ARGV[4]] then
  -- the group's slot is taken already: a new tab of it needs no other
  if tabs >= tonumber(ARGV[5]) then return {0, held} end
elseif held >= tonumber(ARGV[3]) then
  return {0, held}
else
  held = held + 1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, held}
