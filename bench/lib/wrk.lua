-- Rotates through a fixed list of paths (one per line in WRK_PATHS) and reports a JSON summary.
-- With WRK_COUNT=1 it counts responses by status class and, when present, by X-Catalog-Tier / X-Cache.
local paths = {}
local counters = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do
    table.insert(paths, line)
  end
  idx = math.random(#paths)
  stats = { s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0, tier_mysql = 0, tier_redis = 0, cache_hit = 0, cache_miss = 0 }
  method = os.getenv("WRK_METHOD") or "GET"
end

function request()
  idx = idx % #paths + 1
  return wrk.format(method, paths[idx])
end

function response(status, headers, body)
  if status < 300 then stats.s2xx = stats.s2xx + 1
  elseif status < 400 then stats.s3xx = stats.s3xx + 1
  elseif status < 500 then stats.s4xx = stats.s4xx + 1
  else stats.s5xx = stats.s5xx + 1 end
  local tier = headers["x-catalog-tier"] or headers["X-Catalog-Tier"]
  if tier == "mysql" then stats.tier_mysql = stats.tier_mysql + 1 elseif tier == "redis" then stats.tier_redis = stats.tier_redis + 1 end
  local cache = headers["x-cache"] or headers["X-Cache"]
  if cache then
    if string.find(cache, "hit") then stats.cache_hit = stats.cache_hit + 1 else stats.cache_miss = stats.cache_miss + 1 end
  end
end

function done(summary, latency, requests)
  local agg = { s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0, tier_mysql = 0, tier_redis = 0, cache_hit = 0, cache_miss = 0 }
  for _, t in ipairs(threads) do
    local s = t:get("stats")
    for k, v in pairs(s) do agg[k] = agg[k] + v end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"s2xx":%d,"s3xx":%d,"s4xx":%d,"s5xx":%d,"tier_mysql":%d,"tier_redis":%d,"cache_hit":%d,"cache_miss":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    agg.s2xx, agg.s3xx, agg.s4xx, agg.s5xx, agg.tier_mysql, agg.tier_redis, agg.cache_hit, agg.cache_miss))
end

-- Without WRK_COUNT=1 there is no response callback: wrk then hands no headers or body to Lua, which
-- would otherwise copy every 100 KB body into a Lua string and make the load generator a large, common
-- share of the two cores (it dilutes every ratio toward 1). Statuses >= 400 are still counted by wrk.
if os.getenv("WRK_COUNT") ~= "1" then response = nil end
