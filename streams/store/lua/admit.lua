-- One request admitted or not by a caller's sliding-window log (lib/sliding_window.lua).
-- KEYS: log; ARGV: limit, window (us), nonce
return admit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
