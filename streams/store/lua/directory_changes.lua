-- The directory's changes after a position, for the API's search indexes (api/search.py).
-- KEYS[1] the changes stream; ARGV[1] the first number to read (the entries are
-- numbered, lib/changes.lua), ARGV[2] at most this many (0: only where the stream stands).
-- Returns {the last number given, the first number kept (0: none kept), the entries
-- from ARGV[1] on}, one atomic read; {0, 0, {}} when there is no stream.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, first = 0, 0
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = tonumber(string.match(info[i + 1], '^(%d+)')) end
  if info[i] == 'first-entry' and info[i + 1] then
    first = tonumber(string.match(info[i + 1][1], '^(%d+)'))
  end
end
local entries = {}
if tonumber(ARGV[2]) > 0 then
  entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
return {last, first, entries}
