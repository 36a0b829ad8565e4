-- The filtered query compare.py also runs through the SDK; args[2] is the encoded $filter.
local path
function init(args)
  table_init(args)
  path = with_sas(wrk.path .. "()?$filter=" .. args[2])
end
function request()
  return wrk.format("GET", path)
end
