-- A firm's index memberships rewritten from its state (lib/index.lua), for a rebuild:
-- `creditwatch directory rebuild` after an upgrade from a store without the indexes.
-- KEYS: the firm's indexed hash, the index counts; ARGV: USCC, the memberships' text
-- (key, score, member, ... joined by newlines)
update_indexes(KEYS[1], KEYS[2], ARGV[2], ARGV[1])
return 1
