-- A page of plan summaries, newest first, from a plan index (a sorted set by drawn_at,
-- ties in reverse id order as ZREVRANGE gives them): those after the plan `before`
-- when given, in one step so a page never mixes two states of the index.
-- KEYS: the index, summaries (hash), results entered (hash)
-- ARGV: before (a plan id, '' for the first page), limit
-- Returns false for a `before` not in the index, else id, summary, count per plan
-- (a summary or count missing as nil: a plan drawn before summaries were kept)
local limit = tonumber(ARGV[2])
local ids = {}
if ARGV[1] == '' then
  ids = redis.call('ZREVRANGE', KEYS[1], 0, limit - 1)
else
  local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not score then return false end
  -- plans drawn at the same instant as `before`, then those drawn earlier
  for _, id in ipairs(redis.call('ZREVRANGEBYSCORE', KEYS[1], score, score)) do
    if #ids < limit and id < ARGV[1] then ids[#ids + 1] = id end
  end
  if #ids < limit then
    local older = redis.call('ZREVRANGEBYSCORE', KEYS[1], '(' .. score, '-inf',
      'LIMIT', 0, limit - #ids)
    for _, id in ipairs(older) do ids[#ids + 1] = id end
  end
end
if #ids == 0 then return {} end
local summaries = redis.call('HMGET', KEYS[2], unpack(ids))
local counts = redis.call('HMGET', KEYS[3], unpack(ids))
local found = {}
for i, id in ipairs(ids) do
  found[#found + 1] = id
  found[#found + 1] = summaries[i]
  found[#found + 1] = counts[i]
end
return found
