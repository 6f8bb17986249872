-- Edit firms' records in one bucket of the related-party indexes (lua/lib/members.lua):
-- a firm's people or address linked, changed or unlinked by a batch.
-- KEYS: the bucket
-- ARGV: (person or address id, 'set' | 'add' | 'del', USCC, record) x n
local changed = 0
for j = 1, #ARGV, 4 do
  changed = changed + members_edit(KEYS[1], ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3])
end
return changed
