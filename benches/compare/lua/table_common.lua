-- Headers the Python Tables SDK sends on entity requests, and its entity shape.
-- args[1]: account SAS query (table service).
local sas
function table_init(args)
  sas = args[1]
  wrk.headers["Accept"] = "application/json;odata=minimalmetadata"
  wrk.headers["DataServiceVersion"] = "3.0"
  wrk.headers["x-ms-version"] = "2019-02-02"
end
function with_sas(path)
  if string.find(path, "?", 1, true) then return path .. "&" .. sas end
  return path .. "?" .. sas
end
function entity_json(pk, rk, n)
  return string.format(
    '{"PartitionKey":"%s","RowKey":"%s","Name":"widget-%d","Count":%d,' ..
    '"Price":19.99,"Price@odata.type":"Edm.Double","Active":true,' ..
    '"Note":"the quick brown fox jumps over the lazy dog"}', pk, rk, n, n)
end
