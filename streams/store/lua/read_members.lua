-- The records of people (or addresses) of one bucket (lua/lib/members.lua).
-- KEYS: the bucket
-- ARGV: ids
local out = {}
for j = 1, #ARGV do out[j] = (members_read(KEYS[1], ARGV[j])) end
return out
