-- Approve or withdraw an address and, if that changed anything, ask every firm there
-- to be looked at again now (a nudge at score 0: as of the firm's own clock).
-- KEYS: allow-list, the address's bucket of the firms index (lua/lib/members.lua), nudges
-- ARGV: normalized address, 'add' | 'remove', the address's id
local changed
if ARGV[2] == 'add' then
  changed = redis.call('SADD', KEYS[1], ARGV[1])
else
  changed = redis.call('SREM', KEYS[1], ARGV[1])
end
if changed == 1 then
  for _, uscc in ipairs(members_usccs(KEYS[2], ARGV[3])) do
    redis.call('ZADD', KEYS[3], 0, uscc)
  end
end
return changed
