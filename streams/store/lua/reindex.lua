-- A firm's index memberships rewritten from its state (lib/index.lua), for a rebuild:
-- `creditwatch directory rebuild` after an upgrade from a store without the indexes.
-- KEYS: the firm's state, its indexed hash (as memberships were kept before), the
-- index counts; ARGV: USCC, the memberships' text (key, score, member, ... joined by
-- newlines)
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local wrapped, guard, held, state = stored_parts(current)
if wrapped ~= 198 then held = held_in_hash(KEYS[2]) end
local now = update_indexes(held, KEYS[3], ARGV[2], ARGV[1])
if wrapped then
  if wrapped ~= 198 or now ~= held then
    redis.call('SET', KEYS[1], stored_value(guard, now, state))
  end
  redis.call('DEL', KEYS[2])
  return 1
end
-- a state stored alone has its guard in a key of its own, which its next commit moves
-- in front of it: its memberships stay in the hash until then
local fields = {'\n', string.sub(now, 1, 8)}
for key, member, score in string.gmatch(string.sub(now, 9) .. '\n', '([^\n]*)\n([^\n]*)\n([^\n]*)\n') do
  fields[#fields + 1] = key .. '\n' .. member
  fields[#fields + 1] = score
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(fields))
return 1
