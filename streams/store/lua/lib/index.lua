-- A firm's index memberships (streams/store/indexes.py) brought to `text` (key, score,
-- member, ... joined by newlines, none inside a value): the indexes it no longer
-- belongs to lose it, the new ones gain it, and each index's count in the hash `counts`
-- follows.
-- The memberships are remembered with the firm's state, in front of it in the same
-- value (streams/store/digests.py `wrap`), as `held`: the first 8 bytes of the SHA-1
-- of the text they were brought to, then each one's key, member and score, joined by
-- newlines, in short: the key without the indexes' prefix (that of `counts`, "cw:ix:"),
-- the firm's own USCC in the member as a NUL byte (in full, as written before, they
-- still read). Memberships the same as then are left at once: most commits change none.
-- Before, they were kept in the firm's own hash `{USCC}:indexed` (field "KEY\nMEMBER"
-- -> score, the digest under the field "\n"): `held_in_hash` reads that form as `held`
-- (without a digest: the full way once).
-- Prefixed to commit.lua and reindex.lua, which call it.
local function held_in_hash(indexed)
  local had = redis.call('HGETALL', indexed)
  local digest, lines = string.rep('\0', 8), {}
  for j = 1, #had, 2 do
    if had[j] == '\n' then digest = had[j + 1] else lines[#lines + 1] = had[j] .. '\n' .. had[j + 1] end
  end
  return digest .. table.concat(lines, '\n'), #had > 0
end

-- The memberships now (`held`, as above) after bringing them from `held` to `text`.
local function update_indexes(held, counts, text, uscc)
  local digest = string.gsub(string.sub(redis.sha1hex(text), 1, 16), '..',
    function(h) return string.char(tonumber(h, 16)) end)
  if string.sub(held, 1, 8) == digest then return held end
  local function lines(s)
    local found = {}
    if s ~= '' then
      for part in string.gmatch(s .. '\n', '([^\n]*)\n') do found[#found + 1] = part end
    end
    return found
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
  local was = {}
  local had = lines(string.sub(held, 9))
  for j = 1, #had - 2, 3 do was[full(had[j] .. '\n' .. had[j + 1])] = had[j + 2] end
  local now = {}
  local kept = {digest}
  local entries = lines(text)
  for j = 1, #entries, 3 do
    local key, score, member = entries[j], entries[j + 1], entries[j + 2]
    local name = key .. '\n' .. member
    now[name] = true
    if was[name] ~= score then
      if redis.call('ZADD', key, score, member) == 1 then
        redis.call('HINCRBY', counts, key, 1)
      end
    end
    kept[#kept + 1] = short(name) .. '\n' .. score
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
  return kept[1] .. table.concat(kept, '\n', 2)
end

