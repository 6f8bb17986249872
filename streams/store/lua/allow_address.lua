-- Approve or withdraw an address and, if that changed anything, ask every firm there
-- to be looked at again now (a nudge at score 0: as of the firm's own clock).
-- KEYS: allow-list, address firms, nudges
-- ARGV: normalized address, 'add' | 'remove'
local changed
if ARGV[2] == 'add' then
  changed = redis.call('SADD', KEYS[1], ARGV[1])
else
  changed = redis.call('SREM', KEYS[1], ARGV[1])
end
if changed == 1 then
  for _, uscc in ipairs(redis.call('HKEYS', KEYS[2])) do
    redis.call('ZADD', KEYS[3], 0, uscc)
  end
end
return changed
