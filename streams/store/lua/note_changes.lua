-- Firms whose directory entries were written outside a commit (a rebuild of the
-- directory): their USCCs on the directory's changes stream, as a commit would add them.
-- KEYS[1] the changes stream; ARGV[1] its cap, ARGV[2..] the USCCs.
for i = 2, #ARGV do note_change(KEYS[1], ARGV[i], ARGV[1]) end
return #ARGV - 1
