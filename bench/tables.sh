# Suites "tables" and "rocksdb" of bench/run.sh (sourced). See bench/README.md.
#
# tables: rows `id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT, created_at
# TIMESTAMP` (primary key only, no other index on either side), 100-byte bodies.
#   - reads over 100k bulk-loaded rows (500 rooms of 200 rows): primary-key point SELECT,
#     SELECT of one room's 200 rows, GROUP BY room (1 and 8 clients). KalamDB twice: with
#     every row hot (RocksDB), then after FLUSH TABLE with every row cold (Parquet);
#   - INSERTs of 1 and of 50 rows per statement (1 and 16 clients) into an empty table,
#     twice: KalamDB sync_writes = false vs PostgreSQL synchronous_commit = off, then
#     sync_writes = true vs synchronous_commit = on (a fresh KalamDB server per setting;
#     PostgreSQL per session through PGOPTIONS).
# rocksdb: bench/rocksdb_put.cpp, the raw RocksDB put rate for the same row bytes.

table_duration="${BENCH_TABLE_DURATION:-5}"
read_clients="${BENCH_READ_CLIENTS:-1 8}"
insert_clients="${BENCH_INSERT_CLIENTS:-1 16}"
rocksdb_seconds="${BENCH_ROCKSDB_SECONDS:-3}"
body_text="$(printf 'x%.0s' $(seq 100))"
columns="id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT, created_at TIMESTAMP"
id_run=0

# KalamDB tables. bench.reads holds the 100k rows of the SELECTs, with a flush policy that
# never fires during the run (so the first reads see hot rows only) until FLUSH TABLE moves
# them all to Parquet. bench.messages takes the INSERTs with the default flush policy
# (rows:10000, checked every 5 s): the server flushes it in the background during the
# INSERT tests, as it would for any user. PostgreSQL: tables reads and messages.
kalam_reads="bench.reads"
kalam_inserts="bench.messages"

# Load-generator threads: one per client up to the number of cores (wrk -t, pgbench -j).
gen_threads() { if [ "$1" -lt "$cores" ]; then echo "$1"; else echo "$cores"; fi; }
row_count() { sed -n 's/.*"row_count":\([0-9]*\).*/\1/p' <<<"$1" | head -1; }
first_cell() { sed -n 's/.*"rows":\[\["\{0,1\}\([^]",]*\)"\{0,1\}[],].*/\1/p' <<<"$1" | head -1; }
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- setup
kalam_create_insert_table() {
  kalam_sql_ok "CREATE NAMESPACE IF NOT EXISTS bench" >/dev/null
  kalam_sql_ok "CREATE SHARED TABLE $kalam_inserts ($columns)" >/dev/null
}

# The read queries return what they should: 200, 500 and 1 rows.
kalam_check_reads() {
  local n t="$kalam_reads"
  n="$(row_count "$(kalam_sql_ok "SELECT * FROM $t WHERE room = 'room-7'")")"
  [ "$n" = 200 ] || die "KalamDB: room-7 has $n rows, not 200"
  n="$(row_count "$(kalam_sql_ok "SELECT room, count(*), max(created_at) FROM $t GROUP BY room")")"
  [ "$n" = 500 ] || die "KalamDB: GROUP BY room gave $n rows, not 500"
  n="$(row_count "$(kalam_sql_ok "SELECT * FROM $t WHERE id = 4242")")"
  [ "$n" = 1 ] || die "KalamDB: point SELECT gave $n rows, not 1"
}

kalam_load_reads() {
  local body t0 t1 n
  kalam_sql_ok "CREATE NAMESPACE IF NOT EXISTS bench" >/dev/null
  kalam_sql_ok "CREATE SHARED TABLE $kalam_reads ($columns) WITH (FLUSH_POLICY = 'rows:1000000000,interval:86400')" >/dev/null
  t0="$(now_ms)"
  body="$(kalam_sql_ok "INSERT INTO $kalam_reads SELECT range, 'room-' || (range % 500), 'author-' || (range % 50), repeat('x', 100), TIMESTAMP '2026-01-01' + range * INTERVAL 1 SECOND FROM range(100000)")"
  t1="$(now_ms)"
  R[load.kalam]=$(( t1 - t0 ))
  n="$(row_count "$body")"
  [ "$n" = 100000 ] || die "KalamDB bulk load inserted '$n' rows: $body"
  kalam_check_reads
}

# FLUSH TABLE bench.reads, wait for its job, check that every row is cold.
kalam_flush_reads() {
  local body job status="" t0 t1 stats
  t0="$(now_ms)"
  body="$(kalam_sql_ok "FLUSH TABLE $kalam_reads")"
  job="$(first_cell "$body")"
  [ -n "$job" ] || die "KalamDB: FLUSH TABLE returned no job id: $body"
  for _ in $(seq 1200); do
    status="$(first_cell "$(kalam_sql "SELECT status FROM system.jobs WHERE job_id = '$job'")")"
    case "$status" in completed | failed | cancelled) break ;; esac
    sleep 0.1
  done
  t1="$(now_ms)"
  [ "$status" = completed ] || die "KalamDB: flush job $job ended '$status': $(kalam_sql "SELECT * FROM system.jobs WHERE job_id = '$job'")"
  R[flush.kalam]=$(( t1 - t0 ))
  stats="$(kalam_sql_ok "SHOW STATS FOR TABLE $kalam_reads")"
  case "$stats" in
    *'["hot_rows","0"]'*'["cold_rows","100000"]'*) ;;
    *) die "KalamDB: after FLUSH TABLE the stats are not 0 hot / 100000 cold: $stats" ;;
  esac
  kalam_check_reads
}

# The flush jobs of the INSERT table so far, as the JSON rows [[status, count], ...].
kalam_flush_jobs() {
  local body
  body="$(kalam_sql "SELECT status, count(*) FROM system.jobs WHERE job_type = 'flush' AND table_name LIKE '%messages' GROUP BY status ORDER BY status")"
  sed -n 's/.*"rows":\(\[.*\]\),"row_count".*/\1/p' <<<"$body"
}

pg_setup() {
  local t0 t1 n
  pg_sql "SET client_min_messages = warning" "DROP TABLE IF EXISTS reads" "DROP TABLE IF EXISTS messages" \
    "CREATE TABLE reads ($columns)" "CREATE TABLE messages ($columns)" \
    >/dev/null || die "PostgreSQL: CREATE TABLE failed"
  t0="$(now_ms)"
  pg_sql "INSERT INTO reads SELECT g, 'room-' || (g % 500), 'author-' || (g % 50), repeat('x', 100), TIMESTAMP '2026-01-01' + g * INTERVAL '1 second' FROM generate_series(0, 99999) g" \
    >/dev/null || die "PostgreSQL: bulk load failed"
  t1="$(now_ms)"
  pg_sql "VACUUM ANALYZE reads" >/dev/null || die "PostgreSQL: VACUUM failed"
  R[load.pg]=$(( t1 - t0 ))
  n="$(pg_sql "SELECT count(*) FROM reads WHERE room = 'room-7'")"
  [ "$n" = 200 ] || die "PostgreSQL: room-7 has $n rows, not 200"
}

pg_write_scripts() {
  printf '%s\n' '\set id random(0, 99999)' 'SELECT * FROM reads WHERE id = :id;' | pg_script point >/dev/null
  printf '%s\n' '\set r random(0, 499)' "SELECT * FROM reads WHERE room = 'room-:r';" | pg_script room >/dev/null
  printf '%s\n' 'SELECT room, count(*), max(created_at) FROM reads GROUP BY room;' | pg_script groupby >/dev/null
  # Unique ids: -D base=B -D n=0; client c uses B + c * 10^9 + ... (n counts its transactions).
  local row="'room-:r', 'author-:a', '$body_text', '2026-01-01 00:00:00')"
  printf '%s\n' '\set n :n + 1' '\set id :base + :client_id * 1000000000 + :n' '\set r :id % 500' \
    '\set a :id % 50' \
    "INSERT INTO messages (id, room, author, body, created_at) VALUES (:id, $row;" | pg_script ins1 >/dev/null
  {
    printf '%s\n' '\set n :n + 1' '\set b :base + :client_id * 1000000000 + :n * 50' '\set r :b % 500' \
      '\set a :b % 50'
    local k values="(:b, $row"
    for k in $(seq 49); do
      printf '\\set i%d :b + %d\n' "$k" "$k"
      values="$values, (:i$k, $row"
    done
    echo "INSERT INTO messages (id, room, author, body, created_at) VALUES $values;"
  } | pg_script ins50 >/dev/null
}

# ---------------------------------------------------------------- one test
# read_pair NAME CLIENTS KALAM_SQL RAND_MAX PG_SCRIPT: KalamDB then PostgreSQL.
read_pair() {
  local name="$1" n="$2" sql="$3" rmax="$4" script="$5" t
  t="$(gen_threads "$n")"
  log "tables: $name (hot), $n client(s), ${table_duration}s each side"
  run_wrk "kalam_${name}_$n" "$n" "$table_duration" "$t" BENCH_SQL="$sql" BENCH_RAND_MAX="$rmax"
  run_pgbench "pg_${name}_$n" "$n" "$table_duration" "$t" "$tmp/pg/$script.sql"
}

# read_cold NAME CLIENTS KALAM_SQL RAND_MAX: KalamDB only (after the flush).
read_cold() {
  local name="$1" n="$2" sql="$3" rmax="$4" t
  t="$(gen_threads "$n")"
  log "tables: $name (cold), $n client(s), ${table_duration}s"
  run_wrk "kalam_${name}cold_$n" "$n" "$table_duration" "$t" BENCH_SQL="$sql" BENCH_RAND_MAX="$rmax"
}

# insert_pair MODE ROWS CLIENTS [SECONDS] [TAG]   (MODE: nosync | sync)
insert_pair() {
  local mode="$1" rows="$2" n="$3" secs="${4:-$table_duration}" tag="${5:-}" t base kk pk
  t="$(gen_threads "$n")"
  id_run=$(( id_run + 1 ))
  base=$(( id_run * 100000000000 ))
  kk="kalam_ins${rows}_${mode}_$n$tag"; pk="pg_ins${rows}_${mode}_$n$tag"
  log "tables: INSERT of $rows row(s), $mode, $n client(s), ${secs}s each side${tag:+ ($tag)}"
  run_wrk "$kk" "$n" "$secs" "$t" BENCH_TABLE="$kalam_inserts" BENCH_INSERT_ROWS="$rows" BENCH_ID_BASE="$base"
  run_pgbench "$pk" "$n" "$secs" "$t" "$tmp/pg/ins$rows.sql" -D n=0 -D base="$base"
  [ -n "${R[$kk.rps]:-}" ] && R[$kk.rows_s]="$(awk -v v="${R[$kk.rps]}" -v r="$rows" 'BEGIN { printf "%.1f", v * r }')"
  [ -n "${R[$pk.rps]:-}" ] && R[$pk.rows_s]="$(awk -v v="${R[$pk.rps]}" -v r="$rows" 'BEGIN { printf "%.1f", v * r }')"
  # Rows KalamDB acknowledged (2xx success responses), for the count check of the phase.
  local ok=$(( ${R[$kk.requests]:-0} - ${R[$kk.non2xx]:-0} - ${R[$kk.not_success]:-0} ))
  kalam_acked=$(( kalam_acked + ok * rows ))
  kalam_inflight=$(( kalam_inflight + n * rows ))
}

insert_phase() { # MODE
  local mode="$1" rows n
  kalam_acked=0; kalam_inflight=0
  insert_pair "$mode" 1 "$cores" 1 "-warmup"
  for rows in 1 50; do
    for n in $insert_clients; do insert_pair "$mode" "$rows" "$n"; done
  done
  # Every acknowledged row must be there (plus at most the requests in flight at wrk's end),
  # hot or already flushed.
  local got
  got="$(first_cell "$(kalam_sql "SELECT count(*) FROM $kalam_inserts")")"
  R[check.$mode]="$kalam_inserts after the $mode INSERTs: ${got:-?} rows for $kalam_acked acknowledged"
  if ! [[ "$got" =~ ^[0-9]+$ ]] || [ "$got" -lt "$kalam_acked" ] || [ "$got" -gt $(( kalam_acked + kalam_inflight )) ]; then
    R[check.$mode]="${R[check.$mode]} — MISMATCH"
    errors_seen="$errors_seen kalam-row-count-$mode($got)"
  else
    R[check.$mode]="${R[check.$mode]} (ok)"
  fi
  R[flushjobs.$mode]="$(kalam_flush_jobs)"
  case "${R[flushjobs.$mode]}" in
    *failed* | *cancelled*) errors_seen="$errors_seen kalam-flush-jobs-$mode(${R[flushjobs.$mode]})" ;;
  esac
}

# ---------------------------------------------------------------- the suite
suite_tables() {
  pg_start
  pg_write_scripts
  [ "$(PGOPTIONS="-c synchronous_commit=off" pg_sql "SHOW synchronous_commit")" = off ] \
    || die "PostgreSQL: PGOPTIONS synchronous_commit=off not in effect"
  [ "$(pg_sql "SHOW synchronous_commit")" = on ] || die "PostgreSQL: synchronous_commit is not on by default"
  [ "$(pg_sql "SHOW fsync")" = on ] || die "PostgreSQL: fsync is off"
  pg_setup

  # Phase 1: sync_writes = false vs synchronous_commit = off; the reads run here too.
  kalam_start tables-nosync false
  kalam_load_reads
  kalam_create_insert_table
  log "tables: warm-up (${warmup}s each side)"
  run_wrk warm_kalam_point 2 "$warmup" "$(gen_threads 2)" \
    BENCH_SQL="SELECT * FROM $kalam_reads WHERE id = {r}" BENCH_RAND_MAX=100000
  run_pgbench warm_pg_point 2 "$warmup" "$(gen_threads 2)" "$tmp/pg/point.sql"

  local n
  local q_point="SELECT * FROM $kalam_reads WHERE id = {r}"
  local q_room="SELECT * FROM $kalam_reads WHERE room = 'room-{r}'"
  local q_group="SELECT room, count(*), max(created_at) FROM $kalam_reads GROUP BY room"
  for n in $read_clients; do read_pair point "$n" "$q_point" 100000 point; done
  for n in $read_clients; do read_pair room "$n" "$q_room" 500 room; done
  for n in $read_clients; do read_pair groupby "$n" "$q_group" 1 groupby; done
  log "tables: FLUSH TABLE $kalam_reads"
  kalam_flush_reads
  run_wrk warm_kalam_pointcold 2 "$warmup" "$(gen_threads 2)" BENCH_SQL="$q_point" BENCH_RAND_MAX=100000
  for n in $read_clients; do read_cold point "$n" "$q_point" 100000; done
  for n in $read_clients; do read_cold room "$n" "$q_room" 500; done
  for n in $read_clients; do read_cold groupby "$n" "$q_group" 1; done

  pg_session_options="-c synchronous_commit=off"
  insert_phase nosync
  pg_session_options=""
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(nosync)"
  kalam_stop

  # Phase 2: sync_writes = true vs synchronous_commit = on (PostgreSQL's default).
  kalam_start tables-sync true
  kalam_create_insert_table
  pg_sql "TRUNCATE messages" >/dev/null || die "PostgreSQL: TRUNCATE failed"
  insert_phase sync
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(sync)"
  kalam_stop
}

need_rocksdb() {
  command -v g++ >/dev/null 2>&1 || die "g++ not found (needed for bench/rocksdb_put.cpp)"
  log "rocksdb: compiling bench/rocksdb_put.cpp"
  g++ -O2 -std=c++20 "$bench_dir/rocksdb_put.cpp" -lrocksdb -o "$tmp/rocksdb_put" 2>"$tmp/rocksdb_put.build.txt" \
    || { cat "$tmp/rocksdb_put.build.txt" >&2; die "cannot compile bench/rocksdb_put.cpp (librocksdb-dev?)"; }
}

suite_rocksdb() {
  local cfg threads sync out line f key
  for cfg in "1 0" "1 1" "16 1"; do
    read -r threads sync <<<"$cfg"
    key="rocks_${threads}_$sync"
    log "rocksdb: put, $threads thread(s), sync=$sync, ${rocksdb_seconds}s"
    rm -rf "$tmp/rocksdb-db"
    out="$("$tmp/rocksdb_put" "$tmp/rocksdb-db" "$threads" "$sync" "$rocksdb_seconds" 150 16 2>&1)"
    echo "$out" >"$tmp/$key.txt"
    line="$(grep '^ROCKSDB_RESULT' <<<"$out" | tail -1)"
    if [ -z "$line" ]; then
      log "rocksdb_put failed:"; echo "$out" >&2
      errors_seen="$errors_seen $key(failed)"
      continue
    fi
    for f in $line; do
      case "$f" in *=*) R[$key.${f%%=*}]="${f#*=}" ;; esac
    done
  done
  rm -rf "$tmp/rocksdb-db"
}

# ---------------------------------------------------------------- report
report_tables() {
  pair_row() { # label clients kalam_key pg_key rate_field
    local k="$3" p="$4" f="$5" pp50="" pp99=""
    # pgbench's per-transaction log is only trusted with one client (see the note below).
    if [ "$2" = 1 ]; then pp50="${R[$p.p50_us]:-}"; pp99="${R[$p.p99_us]:-}"; fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$1" "$2" \
      "$(ms "${R[$k.p50_us]:-}")" "$(ms "${R[$k.p99_us]:-}")" "$(num "${R[$k.$f]:-}")" \
      "$(ms "$pp50")" "$(ms "$pp99")" "$(num "${R[$p.$f]:-}")" \
      "$(ratio "${R[$k.$f]:-}" "${R[$p.$f]:-}")" "${R[$k.errors]:-n/a}" "${R[$p.errors]:-n/a}"
  }
  echo
  echo "## Tables: KalamDB vs PostgreSQL 15 — $(date -u +%Y-%m-%d), $cores cores, ${table_duration}s per measurement"
  echo
  echo "Bulk load of the 100k read rows: KalamDB ${R[load.kalam]:-?} ms (one \`INSERT … SELECT … FROM range(100000)\`),"
  echo "PostgreSQL ${R[load.pg]:-?} ms (\`generate_series\`, then VACUUM ANALYZE). KalamDB \`FLUSH TABLE\` of them"
  echo "to Parquet: ${R[flush.kalam]:-?} ms until the job completed."
  echo
  echo "| test | clients | KalamDB p50 ms | KalamDB p99 ms | KalamDB rate | PostgreSQL p50 ms | PostgreSQL p99 ms | PostgreSQL rate | rate KalamDB/PG | errors K / PG |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  local n rows mode label name what
  for name in point room groupby; do
    case "$name" in
      point) what="point SELECT by primary key" ;;
      room) what="SELECT 200 rows \`WHERE room = 'room-N'\`" ;;
      groupby) what="\`GROUP BY room\` over 100k rows" ;;
    esac
    for n in $read_clients; do
      pair_row "$what, hot (queries/s)" "$n" "kalam_${name}_$n" "pg_${name}_$n" rps
    done
    for n in $read_clients; do
      pair_row "$what, KalamDB cold (queries/s)" "$n" "kalam_${name}cold_$n" "pg_${name}_$n" rps
    done
  done
  for mode in nosync sync; do
    if [ "$mode" = nosync ]; then label="sync off"; else label="sync on"; fi
    for rows in 1 50; do
      for n in $insert_clients; do
        pair_row "$rows-row INSERT, $label (rows/s)" "$n" "kalam_ins${rows}_${mode}_$n" "pg_ins${rows}_${mode}_$n" rows_s
      done
    done
  done
  echo
  echo "hot = every KalamDB row in RocksDB; KalamDB cold = the same rows after \`FLUSH TABLE\` (all in"
  echo "Parquet), against the same PostgreSQL figures. sync off = KalamDB \`[storage] sync_writes = false\`"
  echo "vs PostgreSQL \`synchronous_commit = off\`; sync on = \`sync_writes = true\` vs \`synchronous_commit = on\`"
  echo "(fsync on both). INSERTs go to an empty table; KalamDB flushes it by its default policy meanwhile."
  echo "Load generators: wrk / pgbench with min(clients, $cores) threads. errors = non-2xx or"
  echo "non-success HTTP responses and socket errors (wrk) / failed transactions (pgbench)."
  echo "Percentiles are per-request latencies, shown for 1 client only: KalamDB's are timed by"
  echo "bench/wrk-sql.lua, which needs one connection per wrk thread (wrk's own figures are corrected"
  echo "for coordinated omission and are not comparable); PostgreSQL's come from pgbench's"
  echo "per-transaction log, which its cached clock readings spoil with several clients per thread."
  local c
  for c in nosync sync; do
    [ -n "${R[check.$c]:-}" ] && echo "Row count: ${R[check.$c]}; flush jobs of the table [status, count]: ${R[flushjobs.$c]:-none}."
  done
  if [ -n "${R[rocks_1_0.rate]:-}${R[rocks_1_1.rate]:-}${R[rocks_16_1.rate]:-}" ]; then
    report_rocksdb_table
  fi
  echo
  report_tables_aims
}

report_rocksdb_table() {
  echo
  echo "Raw RocksDB \`Put\` (bench/rocksdb_put.cpp: 16-byte keys, 150-byte values, WAL on, KalamDB's"
  echo "DB options, one Put per write, ${rocksdb_seconds}s each):"
  echo
  echo "| RocksDB put | threads | puts/s | p50 µs | p99 µs |"
  echo "|---|---:|---:|---:|---:|"
  local cfg threads sync key
  for cfg in "1 0" "1 1" "16 1"; do
    read -r threads sync <<<"$cfg"
    key="rocks_${threads}_$sync"
    printf '| sync %s | %s | %s | %s | %s |\n' "$([ "$sync" = 1 ] && echo on || echo off)" "$threads" \
      "$(num "${R[$key.rate]:-}")" "$(num "${R[$key.p50_us]:-}")" "$(num "${R[$key.p99_us]:-}")"
  done
}

report_tables_aims() {
  local last_ins first_ins first_read v pg
  last_ins="$(awk '{print $NF}' <<<"$insert_clients")"
  first_ins="$(awk '{print $1}' <<<"$insert_clients")"
  first_read="$(awk '{print $1}' <<<"$read_clients")"
  v="${R[kalam_ins1_nosync_$last_ins.rows_s]:-}"; pg="${R[pg_ins1_nosync_$last_ins.rows_s]:-}"
  if [ -n "$v" ] && [ -n "$pg" ]; then
    awk -v a="$v" -v b="$pg" -v n="$last_ins" 'BEGIN { r = a / b;
      printf "aim: %s-client single-row INSERT (sync off) >= 1.0x PostgreSQL and >= 10000 rows/s: %s (%.0f rows/s, %.2fx PostgreSQL'"'"'s %.0f)\n",
        n, (r >= 1.0 && a >= 10000 ? "met" : "NOT met"), a, r, b }'
  fi
  v="${R[kalam_ins1_nosync_$first_ins.p50_us]:-}"
  if [ -n "$v" ]; then
    awk -v v="$v" -v n="$first_ins" 'BEGIN { printf "aim: %s-client single-row INSERT p50 <= 0.3 ms (sync off): %s (%.3f ms)\n", n, (v <= 300 ? "met" : "NOT met"), v / 1000 }'
  fi
  v="${R[kalam_point_$first_read.p50_us]:-}"
  if [ -n "$v" ]; then
    awk -v v="$v" -v c="${R[kalam_pointcold_$first_read.p50_us]:-}" -v n="$first_read" 'BEGIN {
      printf "aim: %s-client point SELECT p50 <= 0.3 ms: hot rows %s (%.3f ms)", n, (v <= 300 ? "met" : "NOT met"), v / 1000
      if (c != "") printf "; cold rows %s (%.3f ms)", (c <= 300 ? "met" : "NOT met"), c / 1000
      printf "\n" }'
  fi
  v="${R[kalam_ins1_sync_$last_ins.rows_s]:-}"; pg="${R[rocks_1_1.rate]:-}"
  if [ -n "$v" ] && [ -n "$pg" ]; then
    awk -v a="$v" -v b="$pg" -v n="$last_ins" 'BEGIN { r = a / b;
      printf "aim: sync_writes = true, %s-client single-row INSERT >= 3x one fsync per statement (RocksDB 1-thread sync put rate %.0f/s): %s (%.0f rows/s = %.2fx)\n",
        n, b, (r >= 3 ? "met" : "NOT met"), a, r }'
  fi
}
