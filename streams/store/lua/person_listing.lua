-- A person's dishonest listing or removal; returns the firms linked to the person,
-- whether or not the event was new, so a redelivered event fans out again: to the
-- firms of its first time (kept), not to firms linked since, which would each count a
-- second effect of the one event.
-- KEYS: seen, listings (case -> "event_id|listed at"), removed (case -> event_id), the
--       person's bucket of the firms index (lua/lib/members.lua), fanned out
--       (event_id -> "uscc,uscc...")
-- ARGV: event_id, 'list' | 'remove', case_no, "event_id|listed at", the person's id
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  if ARGV[2] == 'list' then
    if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 0 then
      redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
    end
  else
    redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[3])
  end
  local firms = members_usccs(KEYS[4], ARGV[5])
  redis.call('HSET', KEYS[5], ARGV[1], table.concat(firms, ','))
  return firms
end
local fanned = redis.call('HGET', KEYS[5], ARGV[1])
if not fanned then return members_usccs(KEYS[4], ARGV[5]) end
local firms = {}
for uscc in string.gmatch(fanned, '[^,]+') do firms[#firms + 1] = uscc end
return firms
