-- Put Page of 4 KiB at a random 4 KiB-aligned offset of a 1 GiB page blob.
-- args: sas query, x-ms-version.
local sas, body
local pages = 1024 * 1024 * 1024 / 4096
function init(args)
  sas = args[1]
  wrk.headers["x-ms-version"] = args[2]
  wrk.headers["x-ms-page-write"] = "update"
  local parts = {}
  for i = 0, 4095 do parts[#parts + 1] = string.char(i % 251) end
  body = table.concat(parts)
  math.randomseed(7 + tid)
end
function request()
  local offset = (math.random(pages) - 1) * 4096
  -- wrk.format takes these headers instead of wrk.headers, not beside them.
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["x-ms-range"] = "bytes=" .. offset .. "-" .. (offset + 4095)
  return wrk.format("PUT", wrk.path .. "?comp=page&" .. sas, headers, body)
end
