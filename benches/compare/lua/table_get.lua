-- Point query of a random entity among those compare.py inserted: PartitionKey p<i%8>, RowKey r<i>.
-- args[2]: how many entities exist.
local count
function init(args)
  table_init(args)
  count = tonumber(args[2])
  math.randomseed(tid * 7919)
end
function request()
  local i = math.random(0, count - 1)
  local path = string.format("%s(PartitionKey='p%d',RowKey='r%05d')", wrk.path, i % 8, i)
  return wrk.format("GET", with_sas(path))
end
