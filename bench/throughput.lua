-- wrk script: alternate a valid and an invalid certificate (50/50), same requests for
-- every server. Args: header name, file with the allowed value, file with a refused one,
-- and optionally another header's name and value sent with both (a proxy's secret).
local requests = {}
local i = 0

local function read(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return (data:gsub("%s+$", ""))
end

function init(args)
  local header = args[1]
  for _, file in ipairs({ args[2], args[3] }) do
    local h = {}
    h[header] = read(file)
    if args[4] then
      h[args[4]] = args[5]
    end
    table.insert(requests, wrk.format("GET", "/api/values", h))
  end
end

function request()
  i = i + 1
  return requests[(i % #requests) + 1]
end

function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx3xx=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests))
end
