-- A key, its account and the request admitted or not (lib/sliding_window.lua), in one round trip.
-- The limit is the account's own `rate_limit`, else its role's (ARGV[4], JSON role ->
-- limit).
-- A revoked key or a disabled account is refused by the caller (api/auth.py) and not
-- counted here: refusing it spends none of the account's window.
-- KEYS: api keys, accounts, log; ARGV: key hash, window (us), nonce, role limits
local key = redis.call('HGET', KEYS[1], ARGV[1])
if not key then return {false, false, {1, 0, 0}, 0} end
local record = cjson.decode(key)
local account = redis.call('HGET', KEYS[2], record['account_id'])
if not account then return {key, false, {1, 0, 0}, 0} end
local fields = cjson.decode(account)
local function set(v) return v ~= nil and v ~= cjson.null and v ~= false end
if set(record['revoked_at']) or set(fields['disabled']) then return {key, account, {1, 0, 0}, 0} end
local limit = tonumber(fields['rate_limit'])
if not limit or limit < 1 then limit = tonumber(cjson.decode(ARGV[4])[fields['role']]) or 0 end
return {key, account, admit(KEYS[3], limit, tonumber(ARGV[2]), ARGV[3]), limit}
