-- A target's result entered: kept with the plan (the record shown), in the firm's
-- entered results the rules read (hash USCC -> JSON {plan_id: {result, at}}, loaded by
-- the worker with the state) with a nudge to re-evaluate the firm as of its time when
-- it changed, and audited: one step, so no result counts without its record.
-- A first result for a target counts in the plan's results entered (the plans list's
-- count), unless the plan has no count yet: drawn before counts were kept, it is
-- counted from its results when its summary is written (summarise_plan.lua).
-- KEYS: the plan's results, entered results, nudges, audit stream, results entered
-- ARGV: uscc, record JSON, plan_id, result, at, nudge score, audit record, maxlen
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1
    and redis.call('HEXISTS', KEYS[5], ARGV[3]) == 1 then
  redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
local entered = raw and cjson.decode(raw) or {}
local was = entered[ARGV[3]]
local changed = 0
if not was or was.result ~= ARGV[4] or was.at ~= ARGV[5] then
  entered[ARGV[3]] = {result = ARGV[4], at = ARGV[5]}
  redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(entered))
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
  changed = 1
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', 'data', ARGV[7])
return changed
