-- Get Messages (one message, visibilitytimeout=30), then Delete Message with the id and pop
-- receipt it answered: one operation of two requests. The URL given on the command line is
-- <queue>/messages. args: sas query, x-ms-version.
--
-- wrk's response() does not say which connection answered, so the messages got and not yet
-- deleted wait in one queue of this thread: a connection sends the next pending Delete if there
-- is one, a Get otherwise. `ops` counts the Deletes answered 204, `empty` the Gets that found no
-- message (the queue ran dry: the run does not count).
local sas, get
local pending, first, last = {}, 1, 0
ops, empty = 0, 0

-- setup() runs in the main Lua state, done() and report_extra() there too.
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

local function escape(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  sas = args[1]
  wrk.headers["x-ms-version"] = args[2]
  get = wrk.format("GET", wrk.path .. "?visibilitytimeout=30&" .. sas)
end

function request()
  if first > last then
    return get
  end
  local m = pending[first]
  pending[first] = nil
  first = first + 1
  return wrk.format("DELETE", wrk.path .. "/" .. m[1] .. "?popreceipt=" .. escape(m[2]) .. "&" .. sas)
end

function response(status, headers, body)
  if status == 204 then
    ops = ops + 1
  elseif status == 200 then
    local id = string.match(body, "<MessageId>([^<]+)</MessageId>")
    local receipt = string.match(body, "<PopReceipt>([^<]+)</PopReceipt>")
    if id and receipt then
      last = last + 1
      pending[last] = {id, receipt}
    else
      empty = empty + 1
    end
  end
end

-- Read by report.lua: the operations (pairs) and the empty Gets, summed over the threads.
function report_extra()
  local o, e = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ops")
    e = e + t:get("empty")
  end
  return string.format('"ops":%d,"empty":%d', o, e)
end
