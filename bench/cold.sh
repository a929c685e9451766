# Suite "cold" of bench/run.sh (sourced; `bench/cold.sh` alone runs `bench/run.sh cold`).
#
# Cold (Parquet) reads and flushes on KalamDB against DuckDB reading the same Parquet files:
#   - a SHARED table bench.m (id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT,
#     created_at TIMESTAMP) loaded with BENCH_COLD_ROWS rows (default 10 million) in
#     INSERT ... SELECT ... FROM range(500000) chunks, flushed (FLUSH TABLE, polled in
#     system.jobs) after every BENCH_COLD_FLUSH_EVERY chunks: one Parquet segment per flush;
#   - single-row INSERT latency (wrk, 1 client, into bench.m) on the idle server with the last
#     group of rows still hot, then while that group is being flushed;
#   - 100,000 more rows that stay hot;
#   - GROUP BY room (count, max(created_at)) and a selective filter, timed over HTTP (curl),
#     against bench/duckdb_query.cpp (compiled here against third_party/duckdb) running the
#     same SQL over read_parquet('<table dir>/batch-*.parquet') in a process of its own.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  exec "$(cd "$(dirname "$0")" && pwd)/run.sh" cold "$@"
fi

cold_rows="${BENCH_COLD_ROWS:-10000000}"
cold_flush_every="${BENCH_COLD_FLUSH_EVERY:-4}"
cold_repeats="${BENCH_COLD_REPEATS:-3}"
cold_chunk=500000
cold_hot=100000
duckdb_dir="${DUCKDB_DIR:-$root/third_party/duckdb}"

cold_ms() { date +%s%3N; }

# cold_sql_timed SQL: runs it, dies unless it succeeded; leaves the body in $tmp/cold.json
# and prints the client-side seconds (curl's time_total).
cold_sql_timed() {
  local esc="${1//\\/\\\\}" t
  esc="${esc//\"/\\\"}"
  t="$(curl -sS -o "$tmp/cold.json" -w '%{time_total}' -H "Authorization: $auth" \
    -H 'Content-Type: application/json' -d "{\"sql\":\"$esc\"}" "$kalam_url/v1/api/sql")"
  case "$(head -c 20 "$tmp/cold.json")" in
    '{"status":"success"'*) echo "$t" ;;
    *) die "KalamDB: '$1' failed: $(head -c 400 "$tmp/cold.json")" ;;
  esac
}

# cold_flush KEY: FLUSH TABLE bench.m, waits for the job; R[KEY.rows], R[KEY.s] (the job's
# started_at -> completed_at), R[KEY.wall_s] (request -> completion seen, polled every 50 ms).
# With COLD_PROBE_SECS set, runs the insert probe for that long right after the request.
cold_flush() {
  local key="$1" body job status t0 t1 row started completed
  t0="$(cold_ms)"
  body="$(kalam_sql_ok "FLUSH TABLE bench.m")"
  job="$(sed -n 's/.*"rows":\[\["\([^"]*\)".*/\1/p' <<<"$body")"
  [ -n "$job" ] || die "KalamDB: FLUSH TABLE gave no job id: $body"
  if [ -n "${COLD_PROBE_SECS:-}" ]; then
    run_wrk cold_probe_flush 1 "$COLD_PROBE_SECS" 1 BENCH_INSERT_ROWS=1 BENCH_TABLE=bench.m \
      BENCH_ID_BASE=2000000000000
    R[cold.probe_status_after]="$(sed -n 's/.*"rows":\[\["\([a-z]*\)".*/\1/p' \
      <<<"$(kalam_sql "SELECT status FROM system.jobs WHERE job_id = '$job'")")"
  fi
  for _ in $(seq 12000); do   # up to 10 minutes
    row="$(kalam_sql "SELECT status, started_at, completed_at, result, error_message FROM system.jobs WHERE job_id = '$job'")"
    status="$(sed -n 's/.*"rows":\[\["\([a-z]*\)".*/\1/p' <<<"$row")"
    case "$status" in
      completed | failed | cancelled) break ;;
    esac
    sleep 0.05
  done
  t1="$(cold_ms)"
  [ "$status" = completed ] || die "KalamDB: flush job $job ended '$status': $row"
  R[$key.wall_s]="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')"
  R[$key.rows]="$(sed -n 's/.*rows_flushed\\*"*:\([0-9]*\).*/\1/p' <<<"$row")"
  started="$(sed -n 's/.*"rows":\[\["[a-z]*","\([^"]*\)","\([^"]*\)".*/\1/p' <<<"$row")"
  completed="$(sed -n 's/.*"rows":\[\["[a-z]*","\([^"]*\)","\([^"]*\)".*/\2/p' <<<"$row")"
  if [ -n "$started" ] && [ -n "$completed" ]; then
    R[$key.s]="$(awk -v a="$(date -d "$started" +%s.%N)" -v b="$(date -d "$completed" +%s.%N)" \
      'BEGIN { printf "%.2f", b - a }')"
  else
    R[$key.s]="${R[$key.wall_s]}"
  fi
  log "cold: flush $key: ${R[$key.rows]:-?} rows in ${R[$key.s]} s (job), ${R[$key.wall_s]} s (wall)"
}

# cold_chunk K: rows K .. K+499999.
cold_load_chunk() {
  kalam_sql_ok "INSERT INTO bench.m SELECT range + $1, 'room-' || (range % 500), 'author-' || (range % 50), repeat('x', 100), TIMESTAMP '2026-01-01' + (range + $1) * INTERVAL 1 SECOND FROM range($cold_chunk)" >/dev/null
}

cold_sum_counts() { grep -o '\["room-[0-9]*",[0-9]*' "$tmp/cold.json" | awk -F, '{ s += $2 } END { print s + 0 }'; }
cold_single() { sed -n 's/.*"rows":\[\[\([0-9]*\)\]\].*/\1/p' "$tmp/cold.json"; }

# cold_time_query KEY SQL: one warm-up, then cold_repeats timed runs; R[KEY.median_ms], ...
cold_time_query() {
  local key="$1" sql="$2" t all=()
  cold_sql_timed "$sql" >/dev/null
  for _ in $(seq "$cold_repeats"); do
    t="$(cold_sql_timed "$sql")"
    all+=("$t")
  done
  read -r "R[$key.median_ms]" "R[$key.min_ms]" "R[$key.max_ms]" < <(printf '%s\n' "${all[@]}" | sort -g | awk '
    { v[NR] = $1 * 1000 } END { printf "%.1f %.1f %.1f\n", v[int((NR + 1) / 2)], v[1], v[NR] }')
}

need_cold() {
  need_kalam
  command -v wrk >/dev/null 2>&1 || die "wrk not found (run bench/install-deps.sh)"
  command -v g++ >/dev/null 2>&1 || die "g++ not found (needed for bench/duckdb_query.cpp)"
  [ -f "$duckdb_dir/include/duckdb.hpp" ] && [ -f "$duckdb_dir/lib/libduckdb.so" ] \
    || die "no DuckDB under $duckdb_dir (include/duckdb.hpp, lib/libduckdb.so)"
  local chunks=$(( cold_rows / cold_chunk ))
  [ "$chunks" -ge 1 ] && [ $(( chunks * cold_chunk )) -eq "$cold_rows" ] \
    || die "BENCH_COLD_ROWS must be a multiple of $cold_chunk"

  log "cold: compiling bench/duckdb_query.cpp"
  g++ -O2 -std=c++20 -I"$duckdb_dir/include" "$bench_dir/duckdb_query.cpp" -o "$tmp/duckdb_query" \
    -L"$duckdb_dir/lib" -lduckdb -Wl,-rpath,"$duckdb_dir/lib" 2>"$tmp/duckdb_query.build.txt" \
    || { cat "$tmp/duckdb_query.build.txt" >&2; die "cannot compile bench/duckdb_query.cpp"; }
}

suite_cold() {
  local chunks=$(( cold_rows / cold_chunk ))

  kalam_start cold
  kalam_sql_ok "CREATE NAMESPACE bench" >/dev/null
  # No automatic flush: the suite decides when (FLUSH_POLICY far beyond the test).
  kalam_sql_ok "CREATE SHARED TABLE bench.m (id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT, created_at TIMESTAMP) WITH (FLUSH_POLICY = 'rows:1000000000,interval:86400')" >/dev/null

  # --- load and flush, group by group
  local c t0 t1 group=0 load_ms=0 flush_rows=0 flush_s=0 last_flush_s=""
  local groups=$(( (chunks + cold_flush_every - 1) / cold_flush_every ))
  for (( c = 0; c < chunks; c++ )); do
    t0="$(cold_ms)"
    cold_load_chunk $(( c * cold_chunk ))
    t1="$(cold_ms)"
    load_ms=$(( load_ms + t1 - t0 ))
    log "cold: chunk $(( c + 1 ))/$chunks loaded in $(( t1 - t0 )) ms"
    if [ $(( (c + 1) % cold_flush_every )) -eq 0 ] || [ $(( c + 1 )) -eq "$chunks" ]; then
      group=$(( group + 1 ))
      if [ "$group" -eq "$groups" ]; then
        # The last group: INSERT latency idle (its rows hot), then during its flush.
        local d=3
        [ -n "$last_flush_s" ] && d="$(awk -v s="$last_flush_s" 'BEGIN { d = int(s * 0.8); if (d < 2) d = 2; if (d > 10) d = 10; print d }')"
        R[cold.probe_secs]="$d"
        log "cold: single-row INSERT probe on the idle server, ${d}s"
        run_wrk cold_probe_idle 1 "$d" 1 BENCH_INSERT_ROWS=1 BENCH_TABLE=bench.m BENCH_ID_BASE=1000000000000
        log "cold: FLUSH of group $group with the INSERT probe running (${d}s)"
        COLD_PROBE_SECS="$d" cold_flush "cold_flush_$group"
      else
        cold_flush "cold_flush_$group"
        last_flush_s="${R[cold_flush_$group.s]}"
      fi
      flush_rows=$(( flush_rows + ${R[cold_flush_$group.rows]:-0} ))
      flush_s="$(awk -v a="$flush_s" -v b="${R[cold_flush_$group.s]}" 'BEGIN { print a + b }')"
    fi
  done
  R[cold.groups]="$groups"
  R[cold.load_s]="$(awk -v v="$load_ms" 'BEGIN { printf "%.1f", v / 1000 }')"
  R[cold.load_rows_s]="$(awk -v v="$load_ms" -v n="$cold_rows" 'BEGIN { printf "%.0f", n / (v / 1000) }')"
  R[cold.flush_rows]="$flush_rows"
  R[cold.flush_s]="$flush_s"
  R[cold.flush_rows_s]="$(awk -v n="$flush_rows" -v s="$flush_s" 'BEGIN { if (s > 0) printf "%.0f", n / s }')"

  # --- hot rows on top
  kalam_sql_ok "INSERT INTO bench.m SELECT range + $cold_rows, 'room-' || (range % 500), 'author-' || (range % 50), repeat('x', 100), TIMESTAMP '2026-01-01' + (range + $cold_rows) * INTERVAL 1 SECOND FROM range($cold_hot)" >/dev/null
  local probes=$(( ${R[cold_probe_idle.requests]:-0} - ${R[cold_probe_idle.errors]:-0} + ${R[cold_probe_flush.requests]:-0} - ${R[cold_probe_flush.errors]:-0} ))
  R[cold.probe_rows]="$probes"

  # --- where the segments are
  local dir files
  dir="$(dirname "$(find "$kalam_dir/data/storage" -name 'batch-*.parquet' -path '*/bench/m/*' | head -1)")"
  [ -d "$dir" ] || die "no Parquet segments of bench.m under $kalam_dir/data/storage"
  files="$(find "$dir" -maxdepth 1 -name 'batch-*.parquet' | wc -l)"
  R[cold.dir]="${dir#"$kalam_dir/"}"
  R[cold.files]="$files"
  R[cold.bytes]="$(du -cb "$dir"/batch-*.parquet | tail -1 | cut -f1)"

  # --- the queries, KalamDB then DuckDB
  local agg="SELECT room, count(*), max(created_at) FROM bench.m GROUP BY room"
  local sel="SELECT count(*) FROM bench.m WHERE author = 'author-7' AND room = 'room-7'"
  log "cold: KalamDB GROUP BY room (1 + $cold_repeats runs)"
  cold_time_query cold_k_agg "$agg"
  R[cold_k_agg.groups]="$(grep -o '\["room-' "$tmp/cold.json" | wc -l)"
  R[cold_k_agg.total]="$(cold_sum_counts)"
  log "cold: KalamDB selective filter (1 + $cold_repeats runs)"
  cold_time_query cold_k_sel "$sel"
  R[cold_k_sel.count]="$(cold_single)"

  log "cold: DuckDB over $files Parquet files (1 + $cold_repeats runs each)"
  local out line f
  out="$("$tmp/duckdb_query" "$dir/batch-*.parquet" "$cold_repeats" \
    "SELECT room, count(*), max(created_at) FROM {src} GROUP BY room" \
    "SELECT count(*) FROM {src} WHERE author = 'author-7' AND room = 'room-7'" \
    "SELECT room, count(*), max(created_at) FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY _seq DESC) AS rn FROM {src}) WHERE rn = 1 AND NOT _deleted GROUP BY room" 2>&1)"
  echo "$out" >"$tmp/cold_duckdb.txt"
  for line in "$(grep '^DUCKDB_RESULT q=0 ' <<<"$out")" "$(grep '^DUCKDB_RESULT q=1 ' <<<"$out")" \
    "$(grep '^DUCKDB_RESULT q=2 ' <<<"$out")"; do
    [ -n "$line" ] || { log "duckdb_query failed:"; echo "$out" >&2; errors_seen="$errors_seen cold_duckdb(failed)"; break; }
    local key=cold_d_agg
    case "$line" in *' q=1 '*) key=cold_d_sel ;; *' q=2 '*) key=cold_d_merge ;; esac
    for f in $line; do
      case "$f" in *=*) R[$key.${f%%=*}]="${f#*=}" ;; esac
    done
  done

  # --- sanity: every row is there
  local want=$(( cold_rows + cold_hot + probes ))
  local total="${R[cold_k_agg.total]:-0}"
  if [ "${R[cold_k_agg.groups]:-0}" != 500 ] || [ "$total" -lt "$want" ] || [ "$total" -gt $(( want + 2 )) ]; then
    errors_seen="$errors_seen cold-row-count(KalamDB ${R[cold_k_agg.groups]:-?} groups, $total rows, expected $want)"
  fi
  if [ -n "${R[cold_d_agg.sum2]:-}" ] && { [ "${R[cold_d_agg.sum2]}" -lt "$cold_rows" ] || [ "${R[cold_d_agg.sum2]}" -gt $(( cold_rows + probes )) ]; }; then
    errors_seen="$errors_seen cold-parquet-count(${R[cold_d_agg.sum2]}, expected $cold_rows..$(( cold_rows + probes )))"
  fi
  if [ "${R[cold_k_sel.count]:-0}" -lt $(( (cold_rows + cold_hot) / 500 )) ]; then
    errors_seen="$errors_seen cold-filter-count(${R[cold_k_sel.count]:-?})"
  fi
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(cold)"
  R[cold.rss_mb]="$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$kalam_pid/status" 2>/dev/null)"
  local n
  n="$(grep -ciE 'warn|error|critical' "$kalam_dir/server.log")"
  R[cold.log]="$n"
  [ "$n" != 0 ] && R[cold.log_first]="$(grep -iE -m1 'warn|error|critical' "$kalam_dir/server.log" | cut -c1-300)"
  cp "$kalam_dir/server.log" "$tmp/cold.server.log" 2>/dev/null
  kalam_stop
}

report_cold() {
  local g
  echo
  echo "## Cold reads and flush: KalamDB vs DuckDB on the same Parquet files — $(date -u +%Y-%m-%d), $cores cores"
  echo
  echo "bench.m: $(num "$cold_rows") rows loaded in $(( cold_rows / cold_chunk )) chunks of $(num "$cold_chunk") (${R[cold.load_s]:-?} s, $(num "${R[cold.load_rows_s]:-}") rows/s),"
  echo "flushed every $cold_flush_every chunks into ${R[cold.files]:-?} Parquet segments ($(awk -v b="${R[cold.bytes]:-0}" 'BEGIN { printf "%.0f", b / 1048576 }') MiB in \`${R[cold.dir]:-?}\`),"
  echo "plus $(num "$cold_hot") hot rows and ${R[cold.probe_rows]:-?} rows from the INSERT probes (hot or in the last segment)."
  echo "Server peak RSS (VmHWM): ${R[cold.rss_mb]:-?} MiB."
  echo
  echo "| query | KalamDB (HTTP) median ms | min–max | DuckDB (Parquet only) median ms | min–max | KalamDB/DuckDB | results K / D |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  printf '| `GROUP BY room` count, max(created_at) | %s | %s–%s | %s | %s–%s | %s | %s / %s rows counted |\n' \
    "${R[cold_k_agg.median_ms]:-n/a}" "${R[cold_k_agg.min_ms]:-?}" "${R[cold_k_agg.max_ms]:-?}" \
    "${R[cold_d_agg.median_ms]:-n/a}" "${R[cold_d_agg.min_ms]:-?}" "${R[cold_d_agg.max_ms]:-?}" \
    "$(ratio "${R[cold_k_agg.median_ms]:-}" "${R[cold_d_agg.median_ms]:-}")" \
    "${R[cold_k_agg.total]:-?}" "${R[cold_d_agg.sum2]:-?}"
  printf "| \`count(*) WHERE author = 'author-7' AND room = 'room-7'\` | %s | %s–%s | %s | %s–%s | %s | %s / %s |\n" \
    "${R[cold_k_sel.median_ms]:-n/a}" "${R[cold_k_sel.min_ms]:-?}" "${R[cold_k_sel.max_ms]:-?}" \
    "${R[cold_d_sel.median_ms]:-n/a}" "${R[cold_d_sel.min_ms]:-?}" "${R[cold_d_sel.max_ms]:-?}" \
    "$(ratio "${R[cold_k_sel.median_ms]:-}" "${R[cold_d_sel.median_ms]:-}")" \
    "${R[cold_k_sel.count]:-?}" "${R[cold_d_sel.sum2]:-?}"
  printf '| DuckDB only: `GROUP BY room` after the newest-version-per-id merge KalamDB does (`row_number() OVER (PARTITION BY id ORDER BY _seq DESC)`) | | | %s | %s–%s | %s | – / %s rows counted |\n' \
    "${R[cold_d_merge.median_ms]:-n/a}" "${R[cold_d_merge.min_ms]:-?}" "${R[cold_d_merge.max_ms]:-?}" \
    "$(ratio "${R[cold_k_agg.median_ms]:-}" "${R[cold_d_merge.median_ms]:-}")" "${R[cold_d_merge.sum2]:-?}"
  echo
  echo "KalamDB: wall time of \`POST /v1/api/sql\` (curl), one warm-up then $cold_repeats runs; it reads hot and cold"
  echo "rows merged (newest version per key). DuckDB: bench/duckdb_query.cpp in its own process, default"
  echo "settings (threads = cores), \`read_parquet('<dir>/batch-*.parquet')\` only, the same warm-up and runs;"
  echo "its third row shows where KalamDB's time goes (ratio there: KalamDB's plain GROUP BY over it)."
  echo
  echo "| flush | rows | job s | wall s | rows/s |"
  echo "|---|---:|---:|---:|---:|"
  for (( g = 1; g <= ${R[cold.groups]:-0}; g++ )); do
    printf '| %s%s | %s | %s | %s | %s |\n' "$g" "$( [ "$g" = "${R[cold.groups]}" ] && echo ' (INSERT probe running)')" \
      "$(num "${R[cold_flush_$g.rows]:-}")" "${R[cold_flush_$g.s]:-?}" "${R[cold_flush_$g.wall_s]:-?}" \
      "$(awk -v n="${R[cold_flush_$g.rows]:-0}" -v s="${R[cold_flush_$g.s]:-0}" 'BEGIN { if (s > 0) printf "%.0f", n / s; else printf "n/a" }')"
  done
  printf '| all | %s | %s | | %s |\n' "$(num "${R[cold.flush_rows]:-}")" "${R[cold.flush_s]:-?}" "$(num "${R[cold.flush_rows_s]:-}")"
  echo
  echo "| single-row INSERT into bench.m, 1 client, ${R[cold.probe_secs]:-?} s | p50 ms | p99 ms | p99.9 ms | max ms | wrk's corrected p99 ms | inserts/s | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  local k
  for k in cold_probe_idle cold_probe_flush; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
      "$( [ "$k" = cold_probe_idle ] && echo 'idle server (last group hot)' || echo 'during the last flush')" \
      "$(ms "${R[$k.p50_us]:-}")" "$(ms "${R[$k.p99_us]:-}")" "$(ms "${R[$k.p999_us]:-}")" \
      "$(ms "${R[$k.max_us]:-}")" "$(ms "${R[$k.co_p99_us]:-}")" "$(num "${R[$k.rps]:-}")" "${R[$k.errors]:-n/a}"
  done
  echo
  echo "p50/p99/p99.9/max: per request (measured by bench/wrk-sql.lua). wrk's corrected p99 counts the"
  echo "requests a stall kept the client from sending (coordinated omission): it shows stalls the"
  echo "per-request figures hide."
  echo "The flush job was '${R[cold.probe_status_after]:-?}' when the probe ended (running = the probe overlapped it throughout)."
  [ -n "${R[cold.log]:-}" ] && echo "Server log: ${R[cold.log]} warning/error line(s)${R[cold.log_first]:+; first: \`${R[cold.log_first]}\`}."
  echo
  local a b
  a="${R[cold_k_agg.median_ms]:-}"; b="${R[cold_d_agg.median_ms]:-}"
  if [ -n "$a" ] && [ -n "$b" ]; then
    awk -v a="$a" -v b="$b" 'BEGIN { r = a / b; printf "aim: GROUP BY over cold data <= 1.5x DuckDB on the Parquet files: %s (%.2fx: %.0f vs %.0f ms)\n", (r <= 1.5 ? "met" : "NOT met"), r, a, b }'
  fi
  a="${R[cold_k_sel.median_ms]:-}"; b="${R[cold_d_sel.median_ms]:-}"
  if [ -n "$a" ] && [ -n "$b" ]; then
    awk -v a="$a" -v b="$b" 'BEGIN { r = a / b; printf "aim: selective filter over cold data <= 1.5x DuckDB: %s (%.2fx: %.0f vs %.0f ms)\n", (r <= 1.5 ? "met" : "NOT met"), r, a, b }'
  fi
  a="${R[cold_probe_flush.p99_us]:-}"; b="${R[cold_probe_idle.p99_us]:-}"
  if [ -n "$a" ] && [ -n "$b" ]; then
    awk -v a="$a" -v b="$b" 'BEGIN { r = a / b; printf "aim: single-row INSERT p99 during a large flush <= 2x idle: %s (%.2fx: %.3f vs %.3f ms)\n", (r <= 2 ? "met" : "NOT met"), r, a / 1000, b / 1000 }'
  fi
  a="${R[cold_probe_flush.co_p99_us]:-}"; b="${R[cold_probe_idle.co_p99_us]:-}"
  if [ -n "$a" ] && [ -n "$b" ]; then
    awk -v a="$a" -v b="$b" -v m="${R[cold_probe_flush.max_us]:-0}" 'BEGIN { printf "     (with stalls counted, wrk'"'"'s corrected p99: %.2fx, %.3f vs %.3f ms; longest INSERT during the flush %.1f ms)\n", a / b, a / 1000, b / 1000, m / 1000 }'
  fi
}
