-- One enterprise's events of a batch, all or nothing, and nothing if any of them was
-- applied before (another worker got there first: the caller reloads and retries).
-- Rechecks carry no event ids: re-evaluating twice gives the same state.
-- The journal keeps every event applied (to rebuild the timeline after a late one);
-- the timeline is replaced from the first instant the batch re-evaluated.
-- The labels log gets the batch's learning record for the trainer, if any.
-- Related firms whose links it changed get a recheck, kept at the earliest time asked.
-- The count of enterprises per grade follows the directory entry's grade (the entries
-- are JSON written by dumps: a name cannot fake the pattern, its quotes are escaped).
-- The console's indexes (streams/store/indexes.py): the firm's memberships now are
-- written, those it had (remembered in its own hash) and lost are removed, and each
-- index's count follows; a change of grade is counted on its day, with the warnings
-- opened and closed; the events applied are counted per minute.
--
-- Keys and arguments by name: K_* and the upper-case locals are defined by the header
-- that streams/store/scripts.py generates from CommitKeys and CommitArgs (the one
-- place their order is written) and puts before this text.
for _, event_id in ipairs(EVENT_IDS) do
  if redis.call('SISMEMBER', K_SEEN, event_id) == 1 then return 0 end
end
if #EVENT_IDS > 0 then redis.call('SADD', K_SEEN, unpack(EVENT_IDS)) end
redis.call('SET', K_STATE, STATE)
local old = redis.call('HGET', K_DIRECTORY, USCC)
local before = old and string.match(old, '"grade":"(%u)"')
local after = string.match(DIRECTORY_ENTRY, '"grade":"(%u)"')
if before ~= after then
  if before then redis.call('HINCRBY', K_GRADE_COUNTS, before, -1) end
  if after then redis.call('HINCRBY', K_GRADE_COUNTS, after, 1) end
end
redis.call('HSET', K_DIRECTORY, USCC, DIRECTORY_ENTRY)
-- the daily counts, city-wide and in the firm's district's own hash (K_DAILY:DISTRICT)
local function district_of(entry)
  local d = entry and string.match(entry, '"district":"([^"]*)"')
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
for j = 1, #TALLIES, 2 do
  bump(TALLIES[j], TALLIES[j + 1], district_of(DIRECTORY_ENTRY))
end
if #EVENT_IDS > 0 then
  redis.call('INCRBY', K_APPLIED, #EVENT_IDS)
  redis.call('EXPIRE', K_APPLIED, 3600)
end
update_indexes(K_INDEXED, K_INDEX_COUNTS, INDEX_ENTRIES)
if RECHECK_AT == '' then
  redis.call('ZREM', K_TIMERS, USCC)
else
  redis.call('ZADD', K_TIMERS, RECHECK_AT, USCC)
end
for _, warning in ipairs(WARNINGS) do
  redis.call('XADD', K_WARNINGS_STREAM, 'MAXLEN', '~', MAXLEN, '*', 'data', warning)
  redis.call('LPUSH', K_ENTERPRISE_WARNINGS, warning)
end
if #WARNINGS > 0 then redis.call('LTRIM', K_ENTERPRISE_WARNINGS, 0, 199) end
for _, change in ipairs(GRADE_CHANGES) do
  redis.call('XADD', K_GRADES_STREAM, 'MAXLEN', '~', MAXLEN, '*', 'data', change)
end
if #JOURNAL > 0 then redis.call('RPUSH', K_JOURNAL, unpack(JOURNAL)) end
for j = 1, #RELATED_RECHECKS, 2 do
  redis.call('ZADD', K_RELATED_RECHECKS, 'LT', RELATED_RECHECKS[j], RELATED_RECHECKS[j + 1])
end
if LEARNING_RECORD ~= '' then
  redis.call('XADD', K_LEARNING, 'MAXLEN', '~', MAXLEN, '*', 'data', LEARNING_RECORD)
end
if REPLACE_FROM ~= '' then
  redis.call('ZREMRANGEBYSCORE', K_TIMELINE, REPLACE_FROM, '+inf')
  for j = 1, #TIMELINE, 2 do
    redis.call('ZADD', K_TIMELINE, TIMELINE[j], TIMELINE[j + 1])
  end
end
return 1
