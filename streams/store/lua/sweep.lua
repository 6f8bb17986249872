-- A day's sweep of one enterprise's model labels: the labels to the labels log, and the
-- state without their samples (STATE) in place of the one stored, behind the same guard
-- (a state stored before the guard moved in stays without it: its guard is in its own
-- key). Nothing else of the firm changes, since a sweep evaluates nothing: what the
-- commit script writes besides (directory, indexes, timers, ...) would be the same.
-- As a commit, it takes effect only over the value it was computed from (else the
-- caller reloads and retries), so a label leaves once, whatever commit or sweep of the
-- firm races it; a sweep redelivered finds nothing left to release and writes nothing.
-- The firm moves to the day its next label resolves on, as at a commit.
local current = redis.call('GET', K_STATE)
if not current or redis.sha1hex(current) ~= STATE_WAS then
  return 0
end
local guard = ''
if string.byte(current, 1) == 194 then
  -- the marker byte, the guard's length (4 bytes), the guard (streams/store/digests.py)
  local b1, b2, b3, b4 = string.byte(current, 2, 5)
  guard = string.sub(current, 1, 5 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4)
end
enter_label_day(K_LABEL_DAYS, K_LABEL_DAY, LABEL_DAY, LABEL_DAY_START, USCC)
redis.call('SET', K_STATE, guard .. STATE)
leave_label_day(K_LABEL_DAY_LEFT, LABEL_DAY_LEFT, LABEL_DAY, USCC)
redis.call('XADD', K_LEARNING, 'MAXLEN', '~', MAXLEN, '*', 'key', USCC, 'data', LEARNING_RECORD)
return 1
