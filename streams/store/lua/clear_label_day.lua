-- A day of label expiries swept: remove the firms handed out, and the day itself once
-- no firm is left in it (a commit may have added one after we read it: then the day
-- stays, for the next sweep). KEYS: the day index, the day's hash, the day's set (as
-- written before); ARGV: day, USCC...
for i = 2, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('SREM', KEYS[3], ARGV[i])
end
if redis.call('HLEN', KEYS[2]) + redis.call('SCARD', KEYS[3]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
