-- wrk script for KalamDB: POST /v1/api/sql over keep-alive connections.
-- Environment (read once per wrk thread):
--   BENCH_SQL   the statement to send (default: SELECT 1)
--   BENCH_AUTH  the value of the Authorization header (e.g. "Basic cm9vdDpwdw==")
-- At the end it prints one machine-readable line for bench/run.sh:
--   BENCH_RESULT requests=N seconds=S rps=R p50_us=A p90_us=.. p99_us=B p999_us=.. max_us=..
--                mean_us=C non2xx=D sockerr=E

local sql = os.getenv("BENCH_SQL") or "SELECT 1"
local auth = os.getenv("BENCH_AUTH") or ""

-- JSON-escape the statement (backslash and double quote are all our queries can hold).
local escaped = sql:gsub('\\', '\\\\'):gsub('"', '\\"')

wrk.method = "POST"
wrk.path = "/v1/api/sql"
wrk.body = '{"sql":"' .. escaped .. '"}'
wrk.headers["Content-Type"] = "application/json"
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH_RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f non2xx=%d sockerr=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.status, e.connect + e.read + e.write + e.timeout))
end
