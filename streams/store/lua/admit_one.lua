-- One request admitted or not by a caller's sliding-window log (admit.lua).
-- KEYS: log; ARGV: limit, window (us), nonce
return admit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
