-- A state's stored value (streams/store/digests.py): the guard and the index memberships
-- held in front of the packed state, each with its length.
-- Prefixed to commit.lua, reindex.lua and sweep.lua, which call them.
-- A stored state value's parts (streams/store/digests.py): its marker byte (nil for a
-- state stored alone), the guard, the memberships held ('' for none) and the state.
local function stored_parts(value)
  local marker = string.byte(value, 1)
  if marker ~= 194 and marker ~= 198 then return nil, '', '', value end
  local function length(at)
    local b1, b2, b3, b4 = string.byte(value, at, at + 3)
    return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  end
  local n = length(2)
  local guard, at = string.sub(value, 6, 5 + n), 6 + n
  local held = ''
  if marker == 198 then
    n = length(at)
    held, at = string.sub(value, at + 4, at + 3 + n), at + 4 + n
  end
  return marker, guard, held, string.sub(value, at)
end

-- The value stored for a state with its guard and the memberships held in front.
local function stored_value(guard, held, state)
  local function four(n)
    return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
      math.floor(n / 256) % 256, n % 256)
  end
  return string.char(198) .. four(#guard) .. guard .. four(#held) .. held .. state
end
