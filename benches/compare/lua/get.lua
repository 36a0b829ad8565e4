-- GET of the URL given on the command line (a SAS URL); x-ms-version comes from args[1].
function init(args)
  wrk.headers["x-ms-version"] = args[1]
end
