-- The directory's changes stream (streams/store/directory_changes.py): a firm's USCC
-- under the next number, as the entry's id N-0 (1, 2, 3...), so that a reader can
-- tell whether the cap trimmed entries it had not read yet.
local function note_change(key, uscc, maxlen)
  local n = 1
  if redis.call('EXISTS', key) == 1 then
    local info = redis.call('XINFO', 'STREAM', key)
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then
        n = tonumber(string.match(info[i + 1], '^(%d+)')) + 1
      end
    end
  end
  redis.call('XADD', key, 'MAXLEN', '~', maxlen, n .. '-0', 'u', uscc)
end
