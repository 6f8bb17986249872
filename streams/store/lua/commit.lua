-- One enterprise's events of a batch, all or nothing, and nothing if any of them was
-- applied before, or if the state changed since it was loaded (another worker got
-- there first: the caller reloads and retries).
-- Rechecks carry no event ids: re-evaluating twice gives the same state.
-- EVENT_IDS are the guard records of the events of the batch (digest and day); the
-- guard, stored with the state, keeps those of the last SEEN_DAYS days before its newest.
-- The journal keeps every event applied (to rebuild the timeline after a late one),
-- each commit's events as one packed chunk, now and then merged with the small chunks
-- before it (streams/store/journal.py): nothing is written if they are not the ones
-- the merge was made over (another commit came between; the caller retries);
-- the timeline is replaced from the first instant the batch re-evaluated.
-- The labels log gets the batch's learning record for the trainer, if any.
-- The output streams' entries carry the USCC beside the record ('key'): the relay's
-- Kafka key, which it then need not parse the record for (agents/relay.py).
-- Related firms whose links it changed get a recheck, kept at the earliest time asked.
-- The count of enterprises per grade follows the directory entry's grade (the entries
-- are JSON written by dumps: a name cannot fake the pattern, its quotes are escaped).
-- The console's indexes (streams/store/indexes.py): the firm's memberships now are
-- written, those it had (remembered in front of its state) and lost are removed, and each
-- index's count follows; a change of grade is counted on its day, with the warnings
-- opened and closed; the events applied are counted per minute.
-- A firm whose name, address or district is new goes on the directory's changes stream.
-- The firm is listed under the day its next label resolves on before its state is
-- written (the day's sweep never misses it), and taken off the day it left after.
--
-- Keys and arguments by name: K_* and the upper-case locals are defined by the header
-- that streams/store/scripts.py generates from CommitKeys and CommitArgs (the one
-- place their order is written) and puts before this text.
local current = redis.call('GET', K_STATE) or ''
if STATE_WAS ~= '-' and redis.sha1hex(current) ~= STATE_WAS then
  return 0  -- another commit changed the state since it was loaded
end
local keep = tonumber(JOURNAL_KEEP)
if JOURNAL_LENGTH ~= '' and (redis.call('LLEN', K_JOURNAL) ~= tonumber(JOURNAL_LENGTH)
    or redis.sha1hex(table.concat(redis.call('LRANGE', K_JOURNAL, keep, -1))) ~= JOURNAL_TAIL) then
  return 0  -- the tail of the journal is not the one merged over
end
-- the guard: records of 10 bytes (streams/store/digests.py), a digest of 8 and a day
-- of 2, kept in front of the state with the firm's index memberships (lib/index.lua)
local function day_of(s, i) return string.byte(s, i + 8) * 256 + string.byte(s, i + 9) end
local function two(n) return string.char(math.floor(n / 256) % 256, n % 256) end
local wrapped, seen, held = stored_parts(current)
-- (only a state without the guard in front can have one: the commit that put it there
-- moved the set in, and a version from before it writes the state without it)
if not wrapped and redis.call('TYPE', K_SEEN)['ok'] == 'set' then
  -- the ids themselves, as the guard kept them in its own key before: moved in
  local records = {}
  for i, id in ipairs(redis.call('SMEMBERS', K_SEEN)) do
    local hex = string.sub(redis.sha1hex(id), 1, 16)
    local digest = string.gsub(hex, '..', function(h) return string.char(tonumber(h, 16)) end)
    records[i] = digest .. two(tonumber(GUARD_DAY))
  end
  seen = seen .. table.concat(records)
  redis.call('DEL', K_SEEN)
end
for _, rec in ipairs(EVENT_IDS) do
  -- a match counts only where a record starts
  local digest, from = string.sub(rec, 1, 8), 1
  while true do
    local found = string.find(seen, digest, from, true)
    if not found then break end
    if (found - 1) % 10 == 0 then return 0 end
    from = found + 1
  end
end
local all = seen .. table.concat(EVENT_IDS)
local newest = 0
for i = 1, #all, 10 do newest = math.max(newest, day_of(all, i)) end
local kept = {}
for i = 1, #all, 10 do
  if day_of(all, i) >= newest - tonumber(SEEN_DAYS) then kept[#kept + 1] = string.sub(all, i, i + 9) end
end
local guard = table.concat(kept)
enter_label_day(K_LABEL_DAYS, K_LABEL_DAY, LABEL_DAY, LABEL_DAY_START, USCC)
-- (memberships kept in their own hash before are moved in)
local in_hash = false
if wrapped ~= 198 then held, in_hash = held_in_hash(K_INDEXED) end
held = update_indexes(held, K_INDEX_COUNTS, INDEX_ENTRIES, USCC)
redis.call('SET', K_STATE, stored_value(guard, held, STATE))
if in_hash then redis.call('DEL', K_INDEXED) end
leave_label_day(K_LABEL_DAY_LEFT, K_LABEL_DAY_LEFT_SET, LABEL_DAY_LEFT, LABEL_DAY, USCC)
-- (an entry is compact, rules/directory.py `stored_entry`, or in full as written before)
local function field(entry, short, long, pattern)
  if not entry then return nil end
  return string.match(entry, '"' .. short .. '":"(' .. pattern .. ')"')
    or string.match(entry, '"' .. long .. '":"(' .. pattern .. ')"')
end
local old = redis.call('HGET', K_DIRECTORY, USCC)
local before = field(old, 'g', 'grade', '%u')
local after = field(DIRECTORY_ENTRY, 'g', 'grade', '%u')
if before ~= after then
  if before then redis.call('HINCRBY', K_GRADE_COUNTS, before, -1) end
  if after then redis.call('HINCRBY', K_GRADE_COUNTS, after, 1) end
end
if old ~= DIRECTORY_ENTRY then redis.call('HSET', K_DIRECTORY, USCC, DIRECTORY_ENTRY) end
-- the search indexes' feed (api/search.py): a firm new, or with another name, address
-- or district (what they index); most commits change none of them. Those three come
-- first in an entry, before its status (before its industry in the full form); a quote
-- inside a value is escaped, so no value can hold the key's text
local function searched(entry)
  local at = string.find(entry, '"s":', 1, true) or string.find(entry, ',"industry":', 1, true)
  return at and string.sub(entry, 1, at) or entry
end
if not old or searched(old) ~= searched(DIRECTORY_ENTRY) then
  note_change(K_DIRECTORY_CHANGES, USCC, CHANGES_MAXLEN)
end
-- the daily counts, city-wide and in the firm's district's own hash (K_DAILY:DISTRICT)
local function district_of(entry)
  local d = field(entry, 'd', 'district', '[^"]*')
  if not d or d == '' then return '-' end
  return d
end
local function bump(field, n, district)
  redis.call('HINCRBY', K_DAILY, field, n)
  redis.call('HINCRBY', K_DAILY .. ':' .. district, field, n)
end
if before ~= after and DAY ~= '' then
  if before then bump('grade|' .. DAY .. '|' .. before, -1, district_of(old)) end
  if after then bump('grade|' .. DAY .. '|' .. after, 1, district_of(DIRECTORY_ENTRY)) end
end
for _, tally in ipairs(TALLIES) do
  bump(tally[1], tally[2], district_of(DIRECTORY_ENTRY))
end
-- (the minute's key expires an hour after its first count)
if #EVENT_IDS > 0 and redis.call('INCRBY', K_APPLIED, #EVENT_IDS) == #EVENT_IDS then
  redis.call('EXPIRE', K_APPLIED, 3600)
end
if RECHECK_AT == '' then
  redis.call('ZREM', K_TIMERS, USCC)
else
  redis.call('ZADD', K_TIMERS, RECHECK_AT, USCC)
end
for _, warning in ipairs(WARNINGS) do
  redis.call('XADD', K_WARNINGS_STREAM, 'MAXLEN', '~', MAXLEN, '*', 'key', USCC, 'data', warning)
  redis.call('LPUSH', K_ENTERPRISE_WARNINGS, warning)
end
if #WARNINGS > 0 then redis.call('LTRIM', K_ENTERPRISE_WARNINGS, 0, 199) end
for _, change in ipairs(GRADE_CHANGES) do
  redis.call('XADD', K_GRADES_STREAM, 'MAXLEN', '~', MAXLEN, '*', 'key', USCC, 'data', change)
end
local length = -1
if JOURNAL_LENGTH ~= '' then
  -- the small chunks at the tail (checked above) merged with the events of this commit
  if keep == 0 then
    redis.call('DEL', K_JOURNAL)
  else
    redis.call('LTRIM', K_JOURNAL, 0, keep - 1)
  end
  length = redis.call('RPUSH', K_JOURNAL, JOURNAL_MERGED)
elseif #JOURNAL > 0 then
  length = redis.call('RPUSH', K_JOURNAL, unpack(JOURNAL))
end
for _, recheck in ipairs(RELATED_RECHECKS) do
  redis.call('ZADD', K_RELATED_RECHECKS, 'LT', recheck[1], recheck[2])
end
if LEARNING_RECORD ~= '' then
  redis.call('XADD', K_LEARNING, 'MAXLEN', '~', MAXLEN, '*', 'key', USCC, 'data', LEARNING_RECORD)
end
if REPLACE_FROM ~= '' then
  redis.call('ZREMRANGEBYSCORE', K_TIMELINE, REPLACE_FROM, '+inf')
  -- one call per 500 entries (unpack takes a bounded number of values)
  for from = 1, #TIMELINE, 500 do
    local flat = {}
    for j = from, math.min(from + 499, #TIMELINE) do
      flat[#flat + 1] = TIMELINE[j][1]
      flat[#flat + 1] = TIMELINE[j][2]
    end
    redis.call('ZADD', K_TIMELINE, unpack(flat))
  end
end
-- taken, and the journal's length if it wrote to it (-1 if not): the worker's next
-- commit merges over the tail it knows it left
return {1, length}
