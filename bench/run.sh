#!/usr/bin/env bash
# KalamDB benchmarks against PostgreSQL 15, Redis 7 and DuckDB (see bench/README.md).
#
#   bench/run.sh [SUITE...]      SUITE: roundtrip | tables | rocksdb | live | cold |
#                                transactions | pgwire | sdk | topics | fairness | chat | raft |
#                                cluster | all
#                                (default: roundtrip tables rocksdb; all = every suite)
#
# roundtrip (bench/roundtrip.sh): POST /v1/api/sql {"sql":"SELECT 1"} and
#   {"sql":"SELECT * FROM system.namespaces"} with wrk, 1 and 8 clients, against SELECT 1
#   through pgbench.
# tables (bench/tables.sh): a 5-column table of 100k rows on both sides: primary-key point
#   SELECT, a 200-row filter, GROUP BY, INSERTs of 1 and 50 rows with 1 and 16 clients, with
#   durable commits off and on.
# rocksdb (bench/tables.sh): bench/rocksdb_put.cpp, the raw RocksDB put rate for the same
#   row bytes (sync off; sync on with 1 and 16 threads).
# live (bench/live.sh): live queries over /v1/ws against Redis pub/sub, driven by
#   bench/live_bench.cpp: single-subscriber latency, fan-out to 10,000 subscriptions on 1,000
#   connections, set-up of 100,000 subscriptions, memory per idle connection/subscription.
# cold (bench/cold.sh): 10 million rows flushed to Parquet (+100k hot): GROUP BY and a
#   selective filter over HTTP against DuckDB reading the same Parquet files
#   (bench/duckdb_query.cpp), flush rows/s, INSERT latency during a flush.
# transactions (bench/transactions.sh): BEGIN; 10 single-row INSERTs; COMMIT and a
#   read-modify-write transaction over HTTP batches, 1 and 16 clients, against PostgreSQL
#   doing the same through pgbench, durable commits off on both sides.
# pgwire (bench/pgwire.sh): the same pgbench scripts against PostgreSQL and KalamDB's
#   Postgres wire door (SELECT 1, point SELECT, 200-row filter, 1-row INSERT), simple and
#   prepared protocol, 1/8/16 clients, with the HTTP door's figures beside them.
# sdk (bench/sdk.sh, bench/sdk.js): change events/s into the TypeScript SDK's
#   subscribeWithSql() and live() against a raw `ws` client, 1,000 subscriptions on one
#   socket, with the client's CPU per event.
# topics (bench/topics.sh, bench/topics_bench.cpp): a source table's INSERTs into a topic,
#   consumed with /v1/api/topics/consume + /ack, against Redis Streams (XADD, XREADGROUP,
#   XACK; appendonly yes, appendfsync everysec): end-to-end latency at 1,000 rows/s, drain
#   rate in batches of 100, INSERT throughput with and without topics.
# fairness (bench/fairness.sh): while 2 clients run heavy aggregates over HTTP, a third
#   client's SELECT 1 and primary-key reads are timed (p50/p99), against the idle server.
# chat (bench/chat.sh, bench/chat_bench.cpp): users in rooms of 10, one WebSocket each
#   subscribed to its room (SHARED chat.messages) and its inbox (USER chat.inbox); messages
#   INSERTed at a sustained rate: delivery p50/p99 at 1k, 5k and 10k connections, every
#   delivery accounted for, the highest rate with p99 <= 50 ms, memory of 10k idle connections.
# raft (bench/raft.sh, bench/raft_bench.cpp): Debian's Raft library as cluster mode would run
#   it (three replicas, disk log, TCP): commit latency, entries/s, 16 KiB batches, failover.
# cluster (bench/cluster.sh): three nodes in cluster mode with a three-member etcd against one
#   server: replicated INSERT latency (through the leader and through another node), INSERT
#   and point SELECT rates spread over the nodes, failover time after SIGKILL of a leader.
# Each suite starts its own throw-away kalamdb-server(s); one PostgreSQL 15 cluster serves
# the run. Prints Markdown tables (stdout; progress on stderr) and whether the aims are met,
# each suite's as it finishes; every suite's prerequisites are checked before the first runs.
#
# Exit status: 0 whenever the setup works (slow numbers never fail anything); 2 when a
# prerequisite is missing, a server cannot be started or a sanity check fails.
#
# Environment knobs:
#   BENCH_DURATION        seconds per roundtrip measurement (default 8)
#   BENCH_TABLE_DURATION  seconds per tables measurement (default 5)
#   BENCH_ROCKSDB_SECONDS seconds per RocksDB measurement (default 3)
#   BENCH_WARMUP          seconds of warm-up (default 2)
#   BENCH_CLIENTS         roundtrip client counts (default "1 8")
#   BENCH_READ_CLIENTS    tables SELECT client counts (default "1 8")
#   BENCH_INSERT_CLIENTS  tables INSERT client counts (default "1 16")
#   BENCH_LIVE_*          live: CONNS (1000), FAN_SUBS (10), SETUP_SUBS (100), MEM_SUBS (10),
#                         LATENCY_N (3000), ROUNDS (100), SETUP_TIMEOUT (60 s), BODY (22)
#   BENCH_SDK_SUBS, BENCH_SDK_INSERTS  sdk: subscriptions per client (1000), INSERTs (100)
#   BENCH_COLD_ROWS       cold: rows flushed to Parquet (default 10000000, multiple of 500000)
#   BENCH_COLD_FLUSH_EVERY cold: 500k-row chunks per flush (default 4); BENCH_COLD_REPEATS (3)
#   KALAMDB_BIN           server binary (default build/kalamdb-server)
#   PG_BIN                PostgreSQL bin dir (default /usr/lib/postgresql/15/bin)
#   BENCH_TXN_CLIENTS     transactions client counts (default "1 16")
#   BENCH_TXN_DURATION    seconds per transactions measurement (default BENCH_TABLE_DURATION)
#   BENCH_TOPICS_RATE, BENCH_TOPICS_SECONDS, BENCH_TOPICS_DRAIN  topics: producer rows/s
#                         (1000) for seconds (10); messages drained (200000)
#   BENCH_FAIRNESS_DURATION  fairness: seconds per light measurement (default BENCH_TABLE_DURATION)
#   BENCH_FAIRNESS_HEAVY_SQL fairness: the heavy aggregate
#   BENCH_CHAT_*          chat: CONNS ("1000 5000 10000"), ROOM_SIZE (10 users a room), RATE
#                         (500 messages/s), SECONDS (10 per count), MEM_CONNS (10000),
#                         SEARCH_CONNS (1000), SEARCH_SECONDS (4), SENDERS (8), INBOX_EVERY (4),
#                         PERF (a file: perf record -g of the server over one more run)
#   BENCH_CXX             compiler command for the load generators of chat (default g++)
#   BENCH_RAFT_RUNS       raft: runs of the three-replica harness (default 3)
#   BENCH_CLUSTER_*       cluster: SECONDS per measurement (5), CLIENTS spread over the nodes
#                         (12), FAILOVERS (3), SUB_CONNS (600) x SUB_SUBS (10) subscriptions
#   BENCH_KEEP            1 = keep the temp dir (raw outputs, server logs) after the run
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(roundtrip tables rocksdb)
case " ${suites[*]} " in *" all "*) suites=(roundtrip tables rocksdb live cold transactions pgwire sdk topics fairness chat raft cluster) ;; esac
want() { local s; for s in "${suites[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
for s in "${suites[@]}"; do
  case "$s" in
    roundtrip | tables | rocksdb | live | cold | transactions | pgwire | sdk | topics | fairness | chat | raft | cluster) ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown suite '$s' (roundtrip, tables, rocksdb, live, cold, transactions, pgwire, sdk, topics, fairness, chat, raft, cluster, all)" >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
. "$here/lib.sh"
# shellcheck source=bench/roundtrip.sh
. "$here/roundtrip.sh"
# shellcheck source=bench/tables.sh
. "$here/tables.sh"
# shellcheck source=bench/live.sh
. "$here/live.sh"
# shellcheck source=bench/cold.sh
. "$here/cold.sh"
# shellcheck source=bench/transactions.sh
. "$here/transactions.sh"
# shellcheck source=bench/pgwire.sh
. "$here/pgwire.sh"
# shellcheck source=bench/sdk.sh
. "$here/sdk.sh"
# shellcheck source=bench/topics.sh
. "$here/topics.sh"
# shellcheck source=bench/fairness.sh
. "$here/fairness.sh"
# shellcheck source=bench/chat.sh
. "$here/chat.sh"
# shellcheck source=bench/raft.sh
. "$here/raft.sh"
# shellcheck source=bench/cluster.sh
. "$here/cluster.sh"

# Every prerequisite of the suites asked for (tools, peers, compiled drivers) is checked
# before the first suite starts: a missing one stops the run at once, not after the suites
# before it have run.
if want roundtrip || want tables || want transactions || want pgwire; then need_servers; fi
want rocksdb && need_rocksdb
want live && need_live
want cold && need_cold
want sdk && need_sdk
want topics && need_topics
want fairness && need_fairness
want chat && need_chat
want raft && need_raft
want cluster && need_cluster

# Each suite's results are printed as soon as it finishes, so a later suite's failure loses
# nothing already measured. The raw RocksDB figures belong to the tables report (its aims
# compare with them): with both suites, rocksdb runs first.
started_at="$(date +%s)"
echo "# KalamDB benchmarks — $(date -u +%Y-%m-%d), $cores cores"
echo
echo "kalamdb-server: $kalam_bin${kalam_bin_info:+ (built $kalam_bin_info)}, source tree at $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')"
want roundtrip && { suite_roundtrip; report_roundtrip; }
want rocksdb && { suite_rocksdb; want tables || report_rocksdb_table; }
want tables && { suite_tables; report_tables; }
want live && { suite_live; report_live; }
want cold && { suite_cold; report_cold; }
want transactions && { suite_transactions; report_transactions; }
want pgwire && { suite_pgwire; report_pgwire; }
want sdk && { suite_sdk; report_sdk; }
want topics && { suite_topics; report_topics; }
want fairness && { suite_fairness; report_fairness; }
want chat && { suite_chat; report_chat; }
want raft && { suite_raft; report_raft; }
want cluster && { suite_cluster; report_cluster; }

# ---------------------------------------------------------------- notes
echo
echo "All suites: $(( $(date +%s) - started_at )) s."
if [ -n "$pg_notes" ]; then
  echo
  echo "pgbench reuses a cached clock reading when its thread was descheduled mid-transaction:$pg_notes"
fi
if [ -n "$errors_seen" ]; then
  echo
  echo "WARNING: errors under load:$errors_seen"
  [ -n "$error_details" ] && echo "$error_details"
  echo "(raw outputs and server logs: rerun with BENCH_KEEP=1)"
fi
[ -n "$sanity_failures" ] && exit 2
exit 0
