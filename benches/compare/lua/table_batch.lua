-- Entity group transaction of 100 inserts into a new partition per request.
-- args[2]: the table's full URL as it appears inside the batch (http://host:port/account/table).
local counter = 0
local table_url
local CRLF = "\r\n"
function init(args)
  table_init(args)
  table_url = args[2]
  wrk.headers["Content-Type"] = "multipart/mixed; boundary=batch_b1"
end
function request()
  counter = counter + 1
  local pk = string.format("b%d-%d", tid, counter)
  local parts = {"--batch_b1", "Content-Type: multipart/mixed; boundary=changeset_c1", ""}
  for i = 1, 100 do
    local json = entity_json(pk, string.format("r%05d", i), i)
    parts[#parts + 1] = "--changeset_c1"
    parts[#parts + 1] = "Content-Type: application/http"
    parts[#parts + 1] = "Content-Transfer-Encoding: binary"
    parts[#parts + 1] = ""
    parts[#parts + 1] = "POST " .. table_url .. " HTTP/1.1"
    parts[#parts + 1] = "Content-Type: application/json"
    parts[#parts + 1] = "Accept: application/json;odata=minimalmetadata"
    parts[#parts + 1] = "Prefer: return-no-content"
    parts[#parts + 1] = "DataServiceVersion: 3.0"
    parts[#parts + 1] = "Content-ID: " .. i
    parts[#parts + 1] = ""
    parts[#parts + 1] = json
  end
  parts[#parts + 1] = "--changeset_c1--"
  parts[#parts + 1] = ""
  parts[#parts + 1] = "--batch_b1--"
  parts[#parts + 1] = ""
  local base = string.match(table_url, "^https?://[^/]+(/[^/]+)/")
  return wrk.format("POST", with_sas(base .. "/$batch"), nil, table.concat(parts, CRLF))
end
