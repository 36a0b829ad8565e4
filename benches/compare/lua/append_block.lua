-- Append Block of 4 KiB to one append blob: <blob>?comp=appendblock&<sas>.
-- args: sas query, x-ms-version.
local sas, body
function init(args)
  sas = args[1]
  wrk.headers["x-ms-version"] = args[2]
  local parts = {}
  for i = 0, 4095 do parts[#parts + 1] = string.char(i % 251) end
  body = table.concat(parts)
end
function request()
  return wrk.format("PUT", wrk.path .. "?comp=appendblock&" .. sas, nil, body)
end
