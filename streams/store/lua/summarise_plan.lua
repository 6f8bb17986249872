-- The summary of a plan drawn before summaries were kept, written once: the summary,
-- its results entered counted from the plan's results (enter_result.lua counts on
-- from there), and the plan in its scopes' indexes. One step, so a result entered
-- meanwhile is counted once, either in the count taken here or after it.
-- KEYS: summaries, results entered (hash), the plan's results, then its scope indexes
-- ARGV: plan_id, summary JSON, drawn_at score
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  redis.call('HSET', KEYS[2], ARGV[1], redis.call('HLEN', KEYS[3]))
end
for i = 4, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[1])
end
return 1
