-- One request shape per wrk run, configured through the environment (see bench/wrk.py):
--   BENCH_METHOD    GET, POST, PATCH...
--   BENCH_PATH      the path; "{id}" is replaced per request by a random line of BENCH_IDS_FILE
--   BENCH_IDS_FILE  optional: one id per line
--   BENCH_TOKEN     optional: sent as "Authorization: Bearer <token>"
--   BENCH_BODY      optional: a JSON body
--   BENCH_PAIRS_FILE optional: "<token> <id>" per line; each request picks a random line and
--                   sends that token, with "{id}" replaced by that id (many users at once)
-- done() prints one machine-readable line: BENCH_RESULT {json}.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  table.insert(threads, thread)
end

local function env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    return nil
  end
  return value
end

local method, path_template, headers, body, ids, token_pairs, fixed_request

function init(args)
  math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
  method = env("BENCH_METHOD") or "GET"
  path_template = env("BENCH_PATH") or "/"
  body = env("BENCH_BODY")
  headers = {}
  local token = env("BENCH_TOKEN")
  if token then
    headers["Authorization"] = "Bearer " .. token
  end
  if body then
    headers["Content-Type"] = "application/json"
  end
  local ids_file = env("BENCH_IDS_FILE")
  if ids_file then
    ids = {}
    for line in io.lines(ids_file) do
      if line ~= "" then
        table.insert(ids, line)
      end
    end
  end
  local pairs_file = env("BENCH_PAIRS_FILE")
  if pairs_file then
    token_pairs = {}
    for line in io.lines(pairs_file) do
      local pair_token, pair_id = line:match("^(%S+) (%S+)$")
      if pair_token then
        table.insert(token_pairs, { pair_token, pair_id })
      end
    end
  end
  if (ids == nil or #ids == 0) and token_pairs == nil then
    ids = nil
    fixed_request = wrk.format(method, path_template, headers, body)
  end
  statuses = {} -- a global: done() reads it from every thread
end

function request()
  if fixed_request then
    return fixed_request
  end
  if token_pairs then
    local pair = token_pairs[math.random(#token_pairs)]
    headers["Authorization"] = "Bearer " .. pair[1]
    return wrk.format(method, (string.gsub(path_template, "{id}", pair[2])), headers, body)
  end
  return wrk.format(method, (string.gsub(path_template, "{id}", ids[math.random(#ids)])), headers, body)
end

function response(status, response_headers, response_body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, '
      .. '"p50": %d, "p75": %d, "p90": %d, "p99": %d, "p99_9": %d}, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, '
      .. '"statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9),
    e.connect, e.read, e.write, e.timeout, e.status,
    table.concat(parts, ", ")
  ))
end
