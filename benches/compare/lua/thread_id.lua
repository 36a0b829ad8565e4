-- Gives each wrk thread a distinct `tid` so generated names never collide across threads.
local next_tid = 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end
