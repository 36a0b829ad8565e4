-- A lease acquired and released on one blob, in turn (one connection).
-- args: sas query, x-ms-version, lease id.
local sas, id
local n = 0
function init(args)
  sas = args[1]
  wrk.headers["x-ms-version"] = args[2]
  id = args[3]
end
function request()
  n = n + 1
  -- wrk.format takes these headers instead of wrk.headers, not beside them.
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  if n % 2 == 1 then
    headers["x-ms-lease-action"] = "acquire"
    headers["x-ms-lease-duration"] = "-1"
    headers["x-ms-proposed-lease-id"] = id
  else
    headers["x-ms-lease-action"] = "release"
    headers["x-ms-lease-id"] = id
  end
  return wrk.format("PUT", wrk.path .. "?comp=lease&" .. sas, headers, "")
end
