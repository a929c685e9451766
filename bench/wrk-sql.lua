-- wrk script for KalamDB: POST /v1/api/sql over keep-alive connections.
-- Environment (read once per wrk thread):
--   BENCH_SQL          the statement to send (default: SELECT 1). Every "{r}" in it is
--                      replaced, per request, by a random integer in [0, BENCH_RAND_MAX).
--                      Every "{k}" is replaced by one random integer in the same range,
--                      the same for all of them in a request (a key read, then written).
--   BENCH_RAND_MAX     see above (default 100000)
--   BENCH_TXN_INSERTS  when > 0 (with BENCH_INSERT_ROWS = 1): each request is a transaction,
--                      "BEGIN; " then this many single-row INSERTs as below, then "COMMIT".
--   BENCH_INSERT_ROWS  when > 0, BENCH_SQL is ignored and each request is one
--                      INSERT INTO BENCH_TABLE (id, room, author, body, created_at) VALUES
--                      with this many rows of literals: ids unique per request (below), room
--                      'room-<id0 % 500>', author 'author-<id0 % 50>' (id0 = the first id of
--                      the request), BENCH_BODY_BYTES bytes of 'x', '2026-01-01 00:00:00'.
--   BENCH_TABLE        default bench.messages
--   BENCH_BODY_BYTES   default 100
--   BENCH_ID_BASE      first id; thread k (0-based) uses BENCH_ID_BASE + k * 10^9 upwards
--   BENCH_ONE_CONN     1 when every wrk thread has exactly one connection (wrk -t N -c N):
--                      then this script times each request itself (below)
--   BENCH_AUTH         the value of the Authorization header (e.g. "Basic cm9vdDpwdw==")
--
-- Latency. wrk's own latency statistics are corrected for coordinated omission: after the
-- run, every recorded latency L longer than the mean interval I between two requests of a
-- connection adds synthetic samples L - I, L - 2I, ... (wrk 4's stats_correct). One 500 ms
-- stall at 1 ms per request thus adds ~500 samples between 1 and 500 ms, and the mean no
-- longer matches connections / throughput. Those figures are printed as co_* below. The
-- plain per-request latency (request built -> response parsed, CLOCK_MONOTONIC) is measured
-- here when each thread has one connection (request() and response() then alternate), and
-- printed as p50_us, p99_us, mean_us, ...; with several connections per thread it is not
-- known, and those fields are left out.
--
-- At the end it prints machine-readable lines for bench/run.sh:
--   BENCH_RESULT requests=N seconds=S rps=R [p50_us= p90_us= p99_us= p999_us= max_us=
--                mean_us=] co_p50_us= co_p99_us= co_mean_us= non2xx=D sockerr=E not_success=F
--   BENCH_ERROR <status> <first 400 bytes of the first non-2xx (or non-success) response>
--   BENCH_ERROR_SQL <first 300 bytes of the last request its thread built before it>
-- (not_success: 1xx/3xx responses, and 2xx ones whose body does not start with
-- {"status":"success",; non2xx: wrk's count of responses >= 400.)

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local sql = os.getenv("BENCH_SQL") or "SELECT 1"
local auth = os.getenv("BENCH_AUTH") or ""
local rand_max = tonumber(os.getenv("BENCH_RAND_MAX") or "100000")
local insert_rows = tonumber(os.getenv("BENCH_INSERT_ROWS") or "0")
local txn_inserts = tonumber(os.getenv("BENCH_TXN_INSERTS") or "0")
local tbl = os.getenv("BENCH_TABLE") or "bench.messages"
local body_bytes = tonumber(os.getenv("BENCH_BODY_BYTES") or "100")
local id_base = tonumber(os.getenv("BENCH_ID_BASE") or "0")
local one_conn = os.getenv("BENCH_ONE_CONN") == "1"

-- JSON-escape a statement (backslash and double quote are all our queries can hold).
local function json_body(s)
  return '{"sql":"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"}'
end

wrk.method = "POST"
wrk.path = "/v1/api/sql"
wrk.body = json_body(sql)
wrk.headers["Content-Type"] = "application/json"
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- ---------------------------------------------------------------- per-thread state
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Globals of each thread's Lua state (read back in done() with thread:get).
err_text = nil
err_sql = nil
not_success = 0
hist = {}      -- latency in whole microseconds -> count (one connection per thread only)
timed = 0
sum_us = 0
local last_sql = nil
local sent_at = nil
local counter = 0
local dynamic = insert_rows > 0 or sql:find("{r}", 1, true) ~= nil or sql:find("{k}", 1, true) ~= nil
local body_text = string.rep("x", body_bytes)
local static_request = nil

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  static_request = wrk.format()
end

local function next_insert()
  local first = id_base + (tid or 0) * 1000000000 + counter * insert_rows
  counter = counter + 1
  local tail = ", 'room-" .. (first % 500) .. "', 'author-" .. (first % 50) .. "', '" .. body_text
    .. "', '2026-01-01 00:00:00')"
  local parts = {}
  for k = 0, insert_rows - 1 do
    parts[#parts + 1] = "(" .. string.format("%d", first + k) .. tail
  end
  return "INSERT INTO " .. tbl .. " (id, room, author, body, created_at) VALUES " .. table.concat(parts, ", ")
end

if dynamic or one_conn then
  function request()
    local req
    if txn_inserts > 0 then
      local parts = {}
      for _ = 1, txn_inserts do parts[#parts + 1] = next_insert() end
      last_sql = "BEGIN; " .. table.concat(parts, "; ") .. "; COMMIT"
      req = wrk.format(nil, nil, nil, json_body(last_sql))
    elseif insert_rows > 0 then
      last_sql = next_insert()
      req = wrk.format(nil, nil, nil, json_body(last_sql))
    elseif dynamic then
      local key = tostring(math.random(0, rand_max - 1))
      last_sql = sql:gsub("{r}", function() return tostring(math.random(0, rand_max - 1)) end):gsub("{k}", key)
      req = wrk.format(nil, nil, nil, json_body(last_sql))
    else
      req = static_request or wrk.format()
    end
    sent_at = now_us()
    return req
  end
end

function response(status, headers, body)
  if one_conn and sent_at ~= nil then
    local l = math.floor(now_us() - sent_at + 0.5)
    hist[l] = (hist[l] or 0) + 1
    timed = timed + 1
    sum_us = sum_us + l
    sent_at = nil
  end
  local bad = false
  if status < 200 or status > 299 then
    bad = true
    if status < 400 then not_success = not_success + 1 end -- wrk counts only >= 400
  elseif body:sub(1, 20) ~= '{"status":"success",' then
    not_success = not_success + 1
    bad = true
  end
  if bad and err_text == nil then
    err_text = status .. " " .. body:sub(1, 400)
    err_sql = (last_sql or sql):sub(1, 300)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local ns, first_err, first_sql = 0, nil, nil
  local merged, count, total = {}, 0, 0
  for _, t in ipairs(threads) do
    ns = ns + (t:get("not_success") or 0)
    if first_err == nil and t:get("err_text") ~= nil then
      first_err = t:get("err_text")
      first_sql = t:get("err_sql")
    end
    if one_conn then
      for l, c in pairs(t:get("hist") or {}) do merged[l] = (merged[l] or 0) + c end
      count = count + (t:get("timed") or 0)
      total = total + (t:get("sum_us") or 0)
    end
  end
  local raw = ""
  if one_conn and count > 0 then
    local keys = {}
    for l in pairs(merged) do keys[#keys + 1] = l end
    table.sort(keys)
    local function pct(p)
      local rank = math.ceil(p / 100 * count)
      if rank < 1 then rank = 1 end
      local seen = 0
      for _, l in ipairs(keys) do
        seen = seen + merged[l]
        if seen >= rank then return l end
      end
      return keys[#keys]
    end
    raw = string.format("p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f ",
      pct(50), pct(90), pct(99), pct(99.9), keys[#keys], total / count)
  end
  io.write(string.format(
    "BENCH_RESULT requests=%d seconds=%.3f rps=%.1f %sco_p50_us=%.1f co_p99_us=%.1f co_mean_us=%.1f co_max_us=%.1f non2xx=%d sockerr=%d not_success=%d\n",
    summary.requests, secs, summary.requests / secs, raw,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, ns))
  if first_err ~= nil then
    io.write("BENCH_ERROR " .. first_err:gsub("\n", " ") .. "\n")
    io.write("BENCH_ERROR_SQL " .. (first_sql or ""):gsub("\n", " ") .. "\n")
  end
end
