-- The related-party indexes a batch needs, in one call: a crowd smaller than the floor
-- cannot make any rule fire, so only its size matters and it comes back empty.
-- KEYS: allow-list, person firms x N, person listings x N, address firms x M
-- ARGV: N, M, person floor, address floor, normalized address x M
local n, m = tonumber(ARGV[1]), tonumber(ARGV[2])
local person_floor, address_floor = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i = 2, n + 1 do
  if redis.call('HLEN', KEYS[i]) >= person_floor then
    out[#out + 1] = redis.call('HGETALL', KEYS[i])
  else
    out[#out + 1] = {}
  end
end
for i = n + 2, 2 * n + 1 do
  out[#out + 1] = redis.call('HVALS', KEYS[i])
end
for i = 2 * n + 2, 2 * n + m + 1 do
  if redis.call('HLEN', KEYS[i]) >= address_floor then
    out[#out + 1] = redis.call('HGETALL', KEYS[i])
  else
    out[#out + 1] = {}
  end
end
local allowed = {}
for i = 5, m + 4 do
  allowed[#allowed + 1] = redis.call('SISMEMBER', KEYS[1], ARGV[i])
end
out[#out + 1] = allowed
return out
