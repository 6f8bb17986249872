-- The directory's changes after a position, for the API's search indexes (api/search.py).
-- KEYS[1] the changes stream; ARGV[1] the last id read ('0-0': none), ARGV[2] at most
-- this many (0: only where the stream stands).
-- Returns {the last id the stream was given, the highest id trimmed from it (false
-- before Redis 7.0, which does not keep it), its first entry's id, the entries after
-- ARGV[1]}, one atomic read; {false, false, false, {}} when there is no stream.
if redis.call('EXISTS', KEYS[1]) == 0 then return {false, false, false, {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local fields = {}
for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
local first = fields['first-entry']
local entries = {}
if tonumber(ARGV[2]) > 0 then
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
end
return {fields['last-generated-id'], fields['max-deleted-entry-id'] or false,
        first and first[1] or false, entries}
