-- A person's dishonest listing or removal; returns the firms linked to the person,
-- whether or not the event was new, so a redelivered event fans out again: to the
-- firms of its first time (kept), not to firms linked since, which would each count a
-- second effect of the one event.
-- The person's listing record is one hash: 'l:CASE' -> "event_id|listed at" (in
-- force), 'r:CASE' -> event_id (removed), 'e:EVENT_ID' -> "uscc,uscc..." (each event
-- recorded, with the firms it fanned out to; '*': recorded before they were kept, its
-- firms are those linked now).
-- KEYS: the listing record, the person's bucket of the firms index (lua/lib/members.lua)
-- ARGV: event_id, 'list' | 'remove', case_no, "event_id|listed at", the person's id
local record, case, event = KEYS[1], ARGV[3], 'e:' .. ARGV[1]
local fanned = redis.call('HGET', record, event)
if not fanned then
  if ARGV[2] == 'list' then
    if redis.call('HEXISTS', record, 'r:' .. case) == 0 then
      redis.call('HSET', record, 'l:' .. case, ARGV[4])
    end
  else
    redis.call('HSET', record, 'r:' .. case, ARGV[1])
    redis.call('HDEL', record, 'l:' .. case)
  end
  local firms = members_usccs(KEYS[2], ARGV[5])
  redis.call('HSET', record, event, table.concat(firms, ','))
  return firms
end
if fanned == '*' then return members_usccs(KEYS[2], ARGV[5]) end
local firms = {}
for uscc in string.gmatch(fanned, '[^,]+') do firms[#firms + 1] = uscc end
return firms
