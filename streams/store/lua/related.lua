-- The related-party indexes a batch needs, in one call: a crowd smaller than the floor
-- cannot make any rule fire, so only its size matters and it comes back empty.
-- Each person's (address's) records are one value (lua/lib/members.lua).
-- KEYS: allow-list, person bucket x N, person listing record x N (person_listing.lua),
--       address bucket x M
-- ARGV: N, M, person floor, address floor, person id x N, address id x M,
--       normalized address x M
local n, m = tonumber(ARGV[1]), tonumber(ARGV[2])
local person_floor, address_floor = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
local function crowd(bucket, id, floor)
  local value = members_read(bucket, id)
  if floor > 0 and #members_parse(value) < floor then return '' end
  return value
end
for i = 1, n do
  out[#out + 1] = crowd(KEYS[i + 1], ARGV[i + 4], person_floor)
end
for i = n + 2, 2 * n + 1 do  -- the listings in force ('l:CASE') of each listing record
  local record, listed = redis.call('HGETALL', KEYS[i]), {}
  for j = 1, #record, 2 do
    if string.sub(record[j], 1, 2) == 'l:' then listed[#listed + 1] = record[j + 1] end
  end
  out[#out + 1] = listed
end
for i = 1, m do
  out[#out + 1] = crowd(KEYS[2 * n + 1 + i], ARGV[n + 4 + i], address_floor)
end
local allowed = {}
for i = 1, m do
  allowed[#allowed + 1] = redis.call('SISMEMBER', KEYS[1], ARGV[n + m + 4 + i])
end
out[#out + 1] = allowed
return out
