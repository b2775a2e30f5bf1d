-- The overload of `npm run chaos -- --only overload`: GETs rotating through WRK_PATHS; every refused answer
-- (429 or 5xx) is checked for a problem+json body and a Retry-After header.
local paths = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do
    table.insert(paths, line)
  end
  idx = math.random(#paths)
  ok, refused, problem, retry_after, other = 0, 0, 0, 0, 0
end

function request()
  idx = idx % #paths + 1
  return wrk.format("GET", paths[idx])
end

local function header(headers, name)
  for k, v in pairs(headers) do
    if string.lower(k) == name then return v end
  end
  return nil
end

function response(status, headers, body)
  if status < 400 then
    ok = ok + 1
  elseif status == 429 or status >= 500 then
    refused = refused + 1
    local ct = header(headers, "content-type") or ""
    if string.find(ct, "application/problem+json", 1, true) == 1 then problem = problem + 1 end
    if header(headers, "retry-after") then retry_after = retry_after + 1 end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = { ok = 0, refused = 0, problem = 0, retry_after = 0, other = 0 }
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"ok":%d,"refused":%d,"problem":%d,"retry_after":%d,"other":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    t.ok, t.refused, t.problem, t.retry_after, t.other, e.connect, e.read, e.write, e.timeout))
end
