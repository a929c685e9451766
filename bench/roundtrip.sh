# Suite "roundtrip" of bench/run.sh (sourced): SELECT 1 and SELECT * FROM system.namespaces
# on KalamDB (wrk, 1 and 8 clients) against SELECT 1 on PostgreSQL (pgbench).

suite_roundtrip() {
  kalam_start roundtrip   # the default config: sync_writes = false
  local q n
  for q in "SELECT 1" "SELECT * FROM system.namespaces"; do
    kalam_sql_ok "$q" >/dev/null
  done
  pg_start
  local select1
  select1="$(echo "SELECT 1;" | pg_script select1)"

  log "warm-up (${warmup}s each)"
  BENCH_SQL="SELECT 1" BENCH_AUTH="$auth" wrk -t 2 -c 2 -d "${warmup}s" -s "$bench_dir/wrk-sql.lua" \
    "$kalam_url/v1/api/sql" >/dev/null 2>&1
  "$pg_bin/pgbench" -n -f "$select1" -c 2 -j 2 -T "$warmup" \
    -h 127.0.0.1 -p "$pg_port" -U postgres postgres >/dev/null 2>&1

  for n in $clients_list; do
    log "kalamdb SELECT 1, $n client(s), ${duration}s"
    run_wrk "kalam_select1_$n" "$n" "$duration" "$n" BENCH_SQL="SELECT 1"
    log "kalamdb SELECT * FROM system.namespaces, $n client(s), ${duration}s"
    run_wrk "kalam_ns_$n" "$n" "$duration" "$n" BENCH_SQL="SELECT * FROM system.namespaces"
    log "postgres SELECT 1 (pgbench), $n client(s), ${duration}s"
    run_pgbench "pg_select1_$n" "$n" "$duration" "$n" "$select1"
  done

  if ! kill -0 "$kalam_pid" 2>/dev/null; then
    errors_seen="$errors_seen kalamdb-server-exited(roundtrip)"
  fi
  kalam_stop
}

report_roundtrip() {
  row() { # label key
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(ms "${R[$2.p50_us]:-}")" "$(ms "${R[$2.p99_us]:-}")" \
      "$(ms "${R[$2.mean_us]:-}")" "$(num "${R[$2.rps]:-}")" "${R[$2.errors]:-n/a}"
  }
  ratio_row() { # label ours pg
    printf '| %s | %s | %s | %s | %s | |\n' "$1" "$(ratio "${R[$2.p50_us]:-}" "${R[$3.p50_us]:-}")" \
      "$(ratio "${R[$2.p99_us]:-}" "${R[$3.p99_us]:-}")" "$(ratio "${R[$2.mean_us]:-}" "${R[$3.mean_us]:-}")" \
      "$(ratio "${R[$2.rps]:-}" "${R[$3.rps]:-}")"
  }

  echo
  echo "## Round trip: KalamDB vs PostgreSQL 15 — $(date -u +%Y-%m-%d), $cores cores, ${duration}s per measurement"
  echo
  echo "| run | p50 ms | p99 ms | mean ms | queries/s | errors |"
  echo "|---|---:|---:|---:|---:|---:|"
  local n
  for n in $clients_list; do
    row "KalamDB \`SELECT 1\`, $n client(s)" "kalam_select1_$n"
    row "KalamDB \`SELECT * FROM system.namespaces\`, $n client(s)" "kalam_ns_$n"
    row "PostgreSQL \`SELECT 1\` (pgbench), $n client(s)" "pg_select1_$n"
    ratio_row "ratio \`SELECT 1\` KalamDB/PostgreSQL, $n client(s)" "kalam_select1_$n" "pg_select1_$n"
    ratio_row "ratio \`system.namespaces\` KalamDB/\`SELECT 1\` PostgreSQL, $n client(s)" "kalam_ns_$n" "pg_select1_$n"
  done
  echo
  echo "errors = non-2xx HTTP responses (wrk) or failed transactions (pgbench)."
  echo "Latency ratios: lower is better for KalamDB; queries/s ratios: higher is better."
  echo "KalamDB latencies: per request, timed by bench/wrk-sql.lua (not wrk's coordinated-omission-"
  echo "corrected statistics). PostgreSQL mean = pgbench's 'latency average' (clients x time / transactions)."
  echo

  # The aims (informational only: they never change the exit status).
  local first last p50 ours theirs
  first="$(awk '{print $1}' <<<"$clients_list")"
  last="$(awk '{print $NF}' <<<"$clients_list")"
  p50="${R[kalam_select1_$first.p50_us]:-}"
  if [ -n "$p50" ]; then
    awk -v v="$p50" -v n="$first" 'BEGIN { printf "aim: %s-client SELECT 1 p50 <= 0.3 ms: %s (%.3f ms)\n", n, (v <= 300 ? "met" : "NOT met"), v / 1000 }'
  fi
  ours="${R[kalam_select1_$last.rps]:-}"; theirs="${R[pg_select1_$last.rps]:-}"
  if [ -n "$ours" ] && [ -n "$theirs" ]; then
    awk -v a="$ours" -v b="$theirs" -v n="$last" 'BEGIN { r = a / b; printf "aim: %s-client SELECT 1 throughput >= 0.5x PostgreSQL: %s (%.2fx)\n", n, (r >= 0.5 ? "met" : "NOT met"), r }'
  fi
}
