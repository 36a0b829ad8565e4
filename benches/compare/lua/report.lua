-- Appended to every workload script: one machine-readable line for compare.py. A script whose
-- operation takes several requests adds its own counts through report_extra() (a JSON fragment).
function done(summary, latency, requests)
  local e = summary.errors
  local extra = ""
  if report_extra then
    extra = "," .. report_extra()
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"status_errors":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d%s}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), extra))
end
