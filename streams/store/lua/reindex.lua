-- A firm's index memberships rewritten from its state (lib/index.lua), for a rebuild:
-- `creditwatch directory rebuild` after an upgrade from a store without the indexes.
-- KEYS: the firm's indexed hash, the index counts; ARGV: USCC, key, score, member, ...
local entries = {}
for j = 2, #ARGV do entries[j - 1] = ARGV[j] end
update_indexes(KEYS[1], KEYS[2], entries, ARGV[1])
return 1
