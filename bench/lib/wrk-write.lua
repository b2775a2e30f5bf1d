-- Writes for the mixed scenario: PUT /v1/products/{id} over the hot range, each with its own sku (no 409s).
-- WRK_IDS: "from,count". Authorization and Content-Type come from wrk -H.
local from, count
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local spec = os.getenv("WRK_IDS")
  local a, b = string.match(spec, "(%d+),(%d+)")
  from, count = tonumber(a), tonumber(b)
  n = math.random(count) - 1
  errors = 0
end

function request()
  n = (n + 7919) % count
  local id = from + n
  local body = string.format('{"sku":"SKU-%08d","status":"active","name":{"en":"Bench write %d"}}', id, id)
  -- nil headers: wrk then sends its own (the -H Authorization and Content-Type of the command line).
  return wrk.format("PUT", "/v1/products/" .. id, nil, body)
end

function response(status, headers, body)
  if status >= 300 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  io.write(string.format('WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, e,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
