-- A firm's index memberships (streams/store/indexes.py) brought to `entries` (a flat
-- list: key, score, member, ...): the indexes it no longer belongs to lose it, the new
-- ones gain it, each index's count in the hash `counts` follows, and the memberships
-- are remembered in the firm's own hash `indexed` (field "KEY\nMEMBER" -> score).
-- Prefixed to commit.lua and reindex.lua, which call it.
local function update_indexes(indexed, counts, entries)
  local had = redis.call('HGETALL', indexed)
  local was = {}
  for j = 1, #had, 2 do was[had[j]] = had[j + 1] end
  local now = {}
  local fields = {}
  for j = 1, #entries, 3 do
    local key, score, member = entries[j], entries[j + 1], entries[j + 2]
    local name = key .. '\n' .. member
    now[name] = true
    if was[name] ~= score then
      if redis.call('ZADD', key, score, member) == 1 then
        redis.call('HINCRBY', counts, key, 1)
      end
    end
    fields[#fields + 1] = name
    fields[#fields + 1] = score
  end
  for name, _ in pairs(was) do
    if not now[name] then
      local cut = string.find(name, '\n', 1, true)
      local key = string.sub(name, 1, cut - 1)
      if redis.call('ZREM', key, string.sub(name, cut + 1)) == 1 then
        redis.call('HINCRBY', counts, key, -1)
      end
    end
  end
  redis.call('DEL', indexed)
  if #fields > 0 then redis.call('HSET', indexed, unpack(fields)) end
end
