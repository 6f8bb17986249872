-- Timers handed out: remove each only if it was not moved meanwhile (a commit may have
-- set a new time after we read it). KEYS: timers; ARGV: member, score, member, score...
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
