-- Insert Entity, a new key per request, into the table named by the URL path.
local counter = 0
function init(args)
  table_init(args)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Prefer"] = "return-no-content"
end
function request()
  counter = counter + 1
  local body = entity_json("wrk" .. tid, string.format("r%09d", counter), counter)
  return wrk.format("POST", with_sas(wrk.path), nil, body)
end
