-- Put Message: POST of a small message to the URL given on the command line
-- (<queue>/messages?<sas>), the same body every time. args: x-ms-version.
function init(args)
  wrk.method = "POST"
  wrk.headers["x-ms-version"] = args[1]
  wrk.headers["Content-Type"] = "application/xml"
  wrk.body = "<QueueMessage><MessageText>the quick brown fox jumps over the lazy dog 0123456789"
    .. "</MessageText></QueueMessage>"
end
