# Suite "fairness" of bench/run.sh (sourced). See bench/README.md.
#
# Whether heavy statements leave room for light ones: while 2 clients run heavy aggregates
# over HTTP back to back (each a few seconds of both cores), a third client, alone on its
# connection, times SELECT 1 and then primary-key point reads of a 100,000-row table. The
# same light measurements on the idle server come first, as the baseline. Aim: the light
# client's p99 under 20 ms while the heavy ones run.

fairness_duration="${BENCH_FAIRNESS_DURATION:-${BENCH_TABLE_DURATION:-5}}"
# The heavy aggregate: a large hash aggregate over generated rows, no table needed.
fairness_heavy_sql="${BENCH_FAIRNESS_HEAVY_SQL:-SELECT count(DISTINCT i % 1000003), sum(i * i % 7) FROM range(20000000) t(i)}"

# fairness_light KEY_PREFIX: SELECT 1, then point reads, one client each.
fairness_light() {
  run_wrk "${1}_select1" 1 "$fairness_duration" 1 BENCH_SQL="SELECT 1"
  run_wrk "${1}_point" 1 "$fairness_duration" 1 BENCH_RAND_MAX=100000 \
    BENCH_SQL="SELECT * FROM bench.accounts WHERE id = {r}"
}

need_fairness() {
  need_kalam
  command -v wrk >/dev/null 2>&1 || die "wrk not found (run bench/install-deps.sh)"
}

suite_fairness() {
  kalam_start fairness
  kalam_sql_ok "CREATE NAMESPACE IF NOT EXISTS bench" >/dev/null
  kalam_sql_ok "CREATE SHARED TABLE bench.accounts (id BIGINT PRIMARY KEY, balance BIGINT) WITH (FLUSH_POLICY = 'rows:1000000000,interval:86400')" >/dev/null
  kalam_sql_ok "INSERT INTO bench.accounts SELECT range, 0 FROM range(100000)" >/dev/null
  log "fairness: light client on the idle server, ${fairness_duration}s each"
  run_wrk warm_fair 1 "$warmup" 1 BENCH_SQL="SELECT 1"
  fairness_light fair_idle
  local heavy_secs=$(( 2 * fairness_duration + 2 * warmup + 5 ))
  log "fairness: 2 clients of heavy aggregates for ${heavy_secs}s, the light client beside them"
  env BENCH_AUTH="$auth" BENCH_ONE_CONN=1 BENCH_SQL="$fairness_heavy_sql" \
    wrk -t 2 -c 2 -d "${heavy_secs}s" --timeout 60s -s "$bench_dir/wrk-sql.lua" "$kalam_url/v1/api/sql" \
    >"$tmp/fair_heavy.wrk.txt" 2>&1 &
  local heavy_pid=$!
  sleep "$warmup"  # the heavy statements are under way
  fairness_light fair_loaded
  wait "$heavy_pid"
  local line f
  line="$(grep '^BENCH_RESULT' "$tmp/fair_heavy.wrk.txt" | tail -1)"
  for f in $line; do
    case "$f" in *=*) R[fair_heavy.${f%%=*}]="${f#*=}" ;; esac
  done
  if [ -z "$line" ] || [ "${R[fair_heavy.non2xx]:-1}" != 0 ] || [ "${R[fair_heavy.not_success]:-1}" != 0 ]; then
    errors_seen="$errors_seen fair_heavy"
    error_details="$error_details
- \`fair_heavy\`: $(head -c 400 "$tmp/fair_heavy.wrk.txt")"
  fi
  kalam_stop
}

report_fairness() {
  echo
  echo "## Fairness: a light client beside 2 clients of heavy aggregates — $(date -u +%Y-%m-%d), $cores cores, ${fairness_duration}s per measurement"
  echo
  echo "Heavy: \`$fairness_heavy_sql\`, 2 clients back to back: $(num "${R[fair_heavy.requests]:-}") statements, mean $(ms "${R[fair_heavy.mean_us]:-}") ms each."
  echo
  echo "| light statement (1 client) | idle p50 ms | idle p99 ms | loaded p50 ms | loaded p99 ms | loaded max ms | loaded req/s | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  local name what i l
  for name in select1 point; do
    case "$name" in
      select1) what="SELECT 1" ;;
      point) what="SELECT by primary key (100k rows)" ;;
    esac
    i="fair_idle_$name"; l="fair_loaded_$name"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$what" \
      "$(ms "${R[$i.p50_us]:-}")" "$(ms "${R[$i.p99_us]:-}")" "$(ms "${R[$l.p50_us]:-}")" \
      "$(ms "${R[$l.p99_us]:-}")" "$(ms "${R[$l.max_us]:-}")" "$(num "${R[$l.rps]:-}")" \
      "$(( ${R[$i.errors]:-0} + ${R[$l.errors]:-0} ))"
  done
  local met="not met" worst
  worst="$(awk -v a="${R[fair_loaded_select1.p99_us]:-999999999}" -v b="${R[fair_loaded_point.p99_us]:-999999999}" 'BEGIN { print (a > b ? a : b) }')"
  [ "$worst" -lt 20000 ] 2>/dev/null && met="met"
  echo
  echo "Aim: the light client's p99 under 20 ms while the heavy statements run — $met (worst p99 $(ms "$worst") ms)."
}
