-- A person's (address's) records in its bucket (streams/store/members.py): the value
-- is cut into chunks of at most CHUNK bytes, fields ID .. two bytes (0, 1, ...), so
-- that the bucket stays a compact hash. A record: USCC length (1 byte), USCC, body
-- length (1 byte, or 2 with the top bit set), body.
-- Prefixed to the scripts that read or edit the indexes, which call these, after
-- `local CHUNK = ...` (streams/store/scripts.py, from members.CHUNK).
local function chunk_field(id, j) return id .. string.char(math.floor(j / 256), j % 256) end

-- the whole value and how many chunks hold it
local function members_read(bucket, id)
  local parts = {}
  while true do
    local part = redis.call('HGET', bucket, chunk_field(id, #parts))
    if not part then break end
    parts[#parts + 1] = part
  end
  return table.concat(parts), #parts
end

-- each record: {uscc, from, to} (positions in the value)
local function members_parse(value)
  local out, at = {}, 1
  while at <= #value do
    local from, size = at, string.byte(value, at)
    local uscc = string.sub(value, at + 1, at + size)
    at = at + 1 + size
    local length = string.byte(value, at)
    if length >= 128 then
      length = (length - 128) * 256 + string.byte(value, at + 1)
      at = at + 2
    else
      at = at + 1
    end
    at = at + length
    out[#out + 1] = {uscc, from, at - 1}
  end
  return out
end

local function members_usccs(bucket, id)
  local found = {}
  for _, r in ipairs(members_parse((members_read(bucket, id)))) do found[#found + 1] = r[1] end
  return found
end

local function members_write(bucket, id, value, had)
  local n = math.ceil(#value / CHUNK)
  for j = 0, n - 1 do
    redis.call('HSET', bucket, chunk_field(id, j), string.sub(value, j * CHUNK + 1, (j + 1) * CHUNK))
  end
  for j = n, had - 1 do redis.call('HDEL', bucket, chunk_field(id, j)) end
end

-- op 'set': the firm's record becomes `rec`; 'add': only if it has none; 'del': gone
local function members_edit(bucket, id, op, uscc, rec)
  local value, had = members_read(bucket, id)
  local kept, found = {}, false
  for _, r in ipairs(members_parse(value)) do
    if r[1] == uscc then
      if op == 'add' then return 0 end
      found = true
    else
      kept[#kept + 1] = string.sub(value, r[2], r[3])
    end
  end
  if op == 'del' and not found then return 0 end
  if op ~= 'del' then kept[#kept + 1] = rec end
  members_write(bucket, id, table.concat(kept), had)
  return 1
end
