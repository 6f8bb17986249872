-- The day index of label expiries (streams/store/labels.py): a firm is listed under the
-- day its next label resolves on (DAY, its start START; '' for none) before its state
-- is written, and taken off the day it resolved on before (LEFT: the day's hash, and
-- the set such a day was kept in before) after, so the day's sweep may find it with
-- nothing to release, never miss it.
-- Prefixed to commit.lua and sweep.lua, which call them.
local function enter_label_day(days, day_key, day, start, uscc)
  if day ~= '' then
    redis.call('ZADD', days, start, day)
    redis.call('HSET', day_key, uscc, '')
  end
end

local function leave_label_day(left_key, left_set_key, left, day, uscc)
  if left ~= '' and left ~= day then
    redis.call('HDEL', left_key, uscc)
    redis.call('SREM', left_set_key, uscc)
  end
end
