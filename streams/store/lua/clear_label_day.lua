-- A day of label expiries swept: remove the firms handed out, and the day itself once
-- no firm is left in it (a commit may have added one after we read it: then the day
-- stays, for the next sweep). KEYS: the day index, the day's set; ARGV: day, USCC...
for i = 2, #ARGV do
  redis.call('SREM', KEYS[2], ARGV[i])
end
if redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
