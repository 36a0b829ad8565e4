-- Put Blob of 4 KiB under a new name per request: <container>/w<thread>-<n>?<sas>.
-- args: sas query, x-ms-version.
local counter = 0
local sas, body
function init(args)
  sas = args[1]
  wrk.headers["x-ms-version"] = args[2]
  wrk.headers["x-ms-blob-type"] = "BlockBlob"
  wrk.headers["Content-Type"] = "application/octet-stream"
  local parts = {}
  for i = 0, 4095 do parts[#parts + 1] = string.char(i % 251) end
  body = table.concat(parts)
end
function request()
  counter = counter + 1
  return wrk.format("PUT", wrk.path .. "/w" .. tid .. "-" .. counter .. "?" .. sas, nil, body)
end
