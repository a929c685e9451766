# Suite "transactions" of bench/run.sh (sourced). See bench/README.md.
#
# Transactions over HTTP batches against PostgreSQL doing the same through pgbench, with
# durable commits off on both sides (sync_writes = false, synchronous_commit = off), 1 and
# 16 clients:
#   - insert10: BEGIN; 10 single-row INSERTs (the rows of the tables suite); COMMIT;
#   - rmw: read-modify-write of one random account of 100,000:
#     BEGIN; SELECT balance ... WHERE id = k; UPDATE ... SET balance = balance + 1 WHERE id = k;
#     COMMIT. PostgreSQL runs it at its default READ COMMITTED (it never aborts); KalamDB
#     under snapshot isolation answers TRANSACTION_CONFLICT to the rare loser, counted in
#     the error column.
# Then the single-statement INSERT of 1 row (1 and 16 clients) on the same servers, to
# compare with the tables suite of earlier runs.

txn_clients="${BENCH_TXN_CLIENTS:-1 16}"
txn_duration="${BENCH_TXN_DURATION:-${BENCH_TABLE_DURATION:-5}}"

suite_transactions() {
  pg_start
  pg_sql "SET client_min_messages = warning" "DROP TABLE IF EXISTS messages" "DROP TABLE IF EXISTS accounts" \
    "CREATE TABLE messages ($columns)" "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT)" \
    "INSERT INTO accounts SELECT g, 0 FROM generate_series(0, 99999) g" "VACUUM ANALYZE accounts" \
    >/dev/null || die "PostgreSQL: transactions setup failed"
  pg_write_scripts
  local row="'room-:r', 'author-:a', '$body_text', '2026-01-01 00:00:00')" k
  {
    printf '%s\n' '\set n :n + 1' '\set b :base + :client_id * 1000000000 + :n * 10' '\set r :b % 500' '\set a :b % 50'
    echo "BEGIN;"
    for k in $(seq 0 9); do
      echo "INSERT INTO messages (id, room, author, body, created_at) VALUES (:b + $k, $row;"
    done
    echo "COMMIT;"
  } | pg_script txn10 >/dev/null
  printf '%s\n' '\set k random(0, 99999)' 'BEGIN;' 'SELECT balance FROM accounts WHERE id = :k;' \
    'UPDATE accounts SET balance = balance + 1 WHERE id = :k;' 'COMMIT;' | pg_script rmw >/dev/null

  kalam_start transactions false
  kalam_create_insert_table
  # Kept hot (a flush policy that never fires here), like the read table of the tables suite:
  # point reads of cold rows are a cost of their own, measured by the cold suite.
  kalam_sql_ok "CREATE SHARED TABLE bench.accounts (id BIGINT PRIMARY KEY, balance BIGINT) WITH (FLUSH_POLICY = 'rows:1000000000,interval:86400')" >/dev/null
  kalam_sql_ok "INSERT INTO bench.accounts SELECT range, 0 FROM range(100000)" >/dev/null
  pg_session_options="-c synchronous_commit=off"
  local n t base
  log "transactions: warm-up (${warmup}s each side)"
  run_wrk warm_kalam_txn "$cores" "$warmup" "$cores" BENCH_TABLE="$kalam_inserts" BENCH_INSERT_ROWS=1 \
    BENCH_TXN_INSERTS=10 BENCH_ID_BASE=900000000000
  run_pgbench warm_pg_txn "$cores" "$warmup" "$cores" "$tmp/pg/txn10.sql" -D n=0 -D base=900000000000
  for n in $txn_clients; do
    t="$(gen_threads "$n")"
    id_run=$(( id_run + 1 )); base=$(( id_run * 100000000000 ))
    log "transactions: BEGIN; 10 INSERTs; COMMIT, $n client(s), ${txn_duration}s each side"
    run_wrk "kalam_txn10_$n" "$n" "$txn_duration" "$t" BENCH_TABLE="$kalam_inserts" BENCH_INSERT_ROWS=1 \
      BENCH_TXN_INSERTS=10 BENCH_ID_BASE="$base"
    run_pgbench "pg_txn10_$n" "$n" "$txn_duration" "$t" "$tmp/pg/txn10.sql" -D n=0 -D base="$base"
  done
  for n in $txn_clients; do
    t="$(gen_threads "$n")"
    log "transactions: read-modify-write, $n client(s), ${txn_duration}s each side"
    run_wrk "kalam_rmw_$n" "$n" "$txn_duration" "$t" BENCH_RAND_MAX=100000 \
      BENCH_SQL="BEGIN; SELECT balance FROM bench.accounts WHERE id = {k}; UPDATE bench.accounts SET balance = balance + 1 WHERE id = {k}; COMMIT"
    run_pgbench "pg_rmw_$n" "$n" "$txn_duration" "$t" "$tmp/pg/rmw.sql"
  done
  for n in $txn_clients; do
    t="$(gen_threads "$n")"
    id_run=$(( id_run + 1 )); base=$(( id_run * 100000000000 ))
    log "transactions: single-statement INSERT of 1 row, $n client(s), ${txn_duration}s each side"
    run_wrk "kalam_txnins1_$n" "$n" "$txn_duration" "$t" BENCH_TABLE="$kalam_inserts" BENCH_INSERT_ROWS=1 BENCH_ID_BASE="$base"
    run_pgbench "pg_txnins1_$n" "$n" "$txn_duration" "$t" "$tmp/pg/ins1.sql" -D n=0 -D base="$base"
  done
  pg_session_options=""
  # Every acknowledged increment is there: the sum of balances equals the successful rmw
  # transactions (both sides).
  local sum_k sum_p acked_k=0 acked_p=0
  sum_k="$(first_cell "$(kalam_sql "SELECT sum(balance) FROM bench.accounts")")"
  sum_p="$(pg_sql "SELECT sum(balance) FROM accounts")"
  for n in $txn_clients; do
    acked_k=$(( acked_k + ${R[kalam_rmw_$n.requests]:-0} - ${R[kalam_rmw_$n.non2xx]:-0} - ${R[kalam_rmw_$n.not_success]:-0} ))
  done
  R[check.txn]="sum of balances: KalamDB ${sum_k:-?} for $acked_k acknowledged transactions (+ at most the ones in flight), PostgreSQL ${sum_p:-?}"
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(transactions)"
  kalam_stop
}

report_transactions() {
  echo
  echo "## Transactions: KalamDB (HTTP batch) vs PostgreSQL 15 (pgbench) — $(date -u +%Y-%m-%d), $cores cores, ${txn_duration}s per measurement, durable commits off on both sides"
  echo
  echo "| test | clients | KalamDB p50 ms | KalamDB p99 ms | KalamDB tx/s | PostgreSQL tx/s | KalamDB/PG | errors K / PG |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  local n name what k p
  for name in txn10 rmw txnins1; do
    case "$name" in
      txn10) what="BEGIN; 10 single-row INSERTs; COMMIT" ;;
      rmw) what="BEGIN; SELECT by key; UPDATE it; COMMIT" ;;
      txnins1) what="single-statement INSERT of 1 row (no transaction)" ;;
    esac
    for n in $txn_clients; do
      k="kalam_${name}_$n"; p="pg_${name}_$n"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$what" "$n" \
        "$(ms "${R[$k.p50_us]:-}")" "$(ms "${R[$k.p99_us]:-}")" "$(num "${R[$k.rps]:-}")" \
        "$(num "${R[$p.rps]:-}")" "$(ratio "${R[$k.rps]:-}" "${R[$p.rps]:-}")" \
        "${R[$k.errors]:-n/a}" "${R[$p.errors]:-n/a}"
    done
  done
  echo
  echo "Check: ${R[check.txn]:-n/a}."
  local last="${txn_clients##* }"
  echo
  echo "Aim: ≥ 1.0× PostgreSQL's transactions/s at $last clients — BEGIN/10 INSERTs/COMMIT: $(ratio "${R[kalam_txn10_$last.rps]:-}" "${R[pg_txn10_$last.rps]:-}"), read-modify-write: $(ratio "${R[kalam_rmw_$last.rps]:-}" "${R[pg_rmw_$last.rps]:-}")."
}
