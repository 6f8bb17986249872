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
-- what is in front of the packed state (the guard, the memberships held) stays as it is
local _, _, _, packed = stored_parts(current)
enter_label_day(K_LABEL_DAYS, K_LABEL_DAY, LABEL_DAY, LABEL_DAY_START, USCC)
redis.call('SET', K_STATE, string.sub(current, 1, #current - #packed) .. STATE)
leave_label_day(K_LABEL_DAY_LEFT, K_LABEL_DAY_LEFT_SET, LABEL_DAY_LEFT, LABEL_DAY, USCC)
redis.call('XADD', K_LEARNING, 'MAXLEN', '~', MAXLEN, '*', 'key', USCC, 'data', LEARNING_RECORD)
return 1
