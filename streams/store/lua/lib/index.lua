-- A firm's index memberships (streams/store/indexes.py) brought to `text` (key, score,
-- member, ... joined by newlines, none inside a value): the indexes it no longer
-- belongs to lose it, the new ones gain it, each index's count in the hash `counts`
-- follows, and the memberships are remembered in the firm's own hash `indexed` (field
-- "KEY\nMEMBER" -> score), in short: the key without the indexes' prefix (that of
-- `counts`, "cw:ix:"), the firm's own USCC in the member as a NUL byte (fields in
-- full, as written before, still read).
-- The hash keeps a digest of the text it was brought to (the first 8 bytes of its
-- SHA-1: about 12 bytes a firm, where the SHA-1 in hex took 60) under the field "\n"
-- (no membership is named so: an index key is never empty), and memberships the same
-- as then are left at once: most commits change none. A hash without it (written before)
-- takes the full way once; a version before reads it as a membership of no index
-- (ZREM of a key that does not exist) and drops it.
-- Prefixed to commit.lua and reindex.lua, which call it.
local function update_indexes(indexed, counts, text, uscc)
  local digest = string.gsub(string.sub(redis.sha1hex(text), 1, 16), '..',
    function(h) return string.char(tonumber(h, 16)) end)
  if redis.call('HGET', indexed, '\n') == digest then return end
  local entries = {}
  if text ~= '' then
    for part in string.gmatch(text .. '\n', '([^\n]*)\n') do entries[#entries + 1] = part end
  end
  local ix = string.sub(counts, 1, #counts - #'counts')
  local function full(name)
    if string.sub(name, 1, #ix) ~= ix then name = ix .. name end
    return (string.gsub(name, '%z', function() return uscc end))
  end
  local function short(name)
    local from, to = string.find(name, uscc, string.find(name, '\n', 1, true), true)
    if from then name = string.sub(name, 1, from - 1) .. '\0' .. string.sub(name, to + 1) end
    return string.sub(name, #ix + 1)
  end
  local had = redis.call('HGETALL', indexed)
  local was = {}
  for j = 1, #had, 2 do
    if had[j] ~= '\n' then was[full(had[j])] = had[j + 1] end
  end
  local now = {}
  local fields = {'\n', digest}
  for j = 1, #entries, 3 do
    local key, score, member = entries[j], entries[j + 1], entries[j + 2]
    local name = key .. '\n' .. member
    now[name] = true
    if was[name] ~= score then
      if redis.call('ZADD', key, score, member) == 1 then
        redis.call('HINCRBY', counts, key, 1)
      end
    end
    fields[#fields + 1] = short(name)
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
  redis.call('HSET', indexed, unpack(fields))
end
