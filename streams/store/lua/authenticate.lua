-- The caller of a request in one round trip: the key's record, its account, and the
-- count of the key's requests in the current rate window (incremented here).
-- KEYS: keys hash, accounts hash, rate counter; ARGV: key hash, window seconds
local key = redis.call('HGET', KEYS[1], ARGV[1])
if not key then return {false, false, 0} end
local record = cjson.decode(key)
local account = redis.call('HGET', KEYS[2], record['account_id'])
local used = redis.call('INCR', KEYS[3])
if used == 1 then redis.call('EXPIRE', KEYS[3], ARGV[2] * 2) end
return {key, account, used}
