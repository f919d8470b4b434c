-- wrk script for scripts/soak: cycles through valid, refused and hostile requests built
-- from the published test vectors, and counts statuses per thread.
local cjson_ok = false
local requests = {}
local threads = {}

local function read(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  -- args: vectors dir, then header-file pairs "name=file" separated by commas per request
  local dir = args[1]
  for i = 2, #args do
    local headers = {}
    for pair in string.gmatch(args[i], "[^,]+") do
      local name, file = string.match(pair, "([^=]+)=(.+)")
      headers[name] = read(dir .. "/" .. file)
    end
    table.insert(requests, wrk.format("GET", "/api/values", headers))
  end
  counts = { s200 = 0, s403 = 0, s5xx = 0, other = 0 }
  n = 0
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

function response(status, headers, body)
  if status == 200 then counts.s200 = counts.s200 + 1
  elseif status == 403 then counts.s403 = counts.s403 + 1
  elseif status >= 500 then counts.s5xx = counts.s5xx + 1
  else counts.other = counts.other + 1 end
end

function done(summary, latency, requests)
  local t = { s200 = 0, s403 = 0, s5xx = 0, other = 0 }
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for k, v in pairs(c) do t[k] = t[k] + v end
  end
  io.write(string.format("STATUS 200=%d 403=%d 5xx=%d other=%d\n", t.s200, t.s403, t.s5xx, t.other))
  io.write(string.format("LATENCY p50=%.2fms p99=%.2fms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
