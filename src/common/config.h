// Server configuration: built-in defaults, then a TOML file, then environment
// variables, then command-line flags. Each field is the TOML key of the same name in the
// section of its struct ([server] host, ...); negative numbers are refused when loading.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace kalam {

struct Config {
  struct Server {
    // The address to listen on (KALAMDB_HOST, --host). Default: loopback only.
    std::string host = "127.0.0.1";
    // The TCP port of HTTP and the WebSocket (KALAMDB_PORT, --port). 0 (from a file or a
    // flag): any free port, named in the log.
    uint16_t port = 8080;
    // I/O threads of the HTTP and WebSocket server; statements run on a pool of their own.
    // 0: one per core.
    int workers = 0;
    // Open HTTP and WebSocket connections at most (default 10,000). A connection past it
    // is answered 503 SERVICE_UNAVAILABLE and closed, so the server keeps descriptors
    // for the connections it serves. 0: no cap.
    int64_t max_connections = 10000;
  } server;
  struct Storage {
    // The data directory: RocksDB, the local storage's Parquet files, the lock and the
    // generated JWT secret (KALAMDB_DATA_PATH, --data-path). Relative to the working
    // directory.
    std::string data_path = "./data";
    // true: every acknowledged statement is fsynced (durable against power loss).
    // false: durable against a process crash only. Costs one fsync per group commit.
    bool sync_writes = false;
    // RocksDB's block cache of uncompressed data blocks, shared by every family: scans and
    // point reads of hot rows that were written out to files read from memory.
    int64_t block_cache_mb = 256;
    // Decoded row groups of cold segments kept for primary-key point reads of flushed
    // rows (cold/point_cache.h); 0: none, every such read decodes its row group again.
    int64_t cold_cache_mb = 64;
  } storage;
  struct Backup {
    // Where BACKUP DATABASE may write and RESTORE DATABASE may read (directories and
    // everything under them). Unset: <data_path>/../backups. Empty: both are refused.
    std::optional<std::vector<std::string>> allowed_directories;
  } backup;
  // [backup] allowed_directories, or its default.
  std::vector<std::string> BackupDirectories() const;
  // [limits] max_statement_memory_mb in bytes, or its default when statements_at_once
  // statements run at once; 0: no limit.
  uint64_t StatementMemoryBytes(int statements_at_once) const;
  // [cluster] advertise, or [server] host:port: where other nodes reach this one.
  std::string ClusterAddress() const;
  struct Auth {
    // HS256 key of the tokens (KALAMDB_JWT_SECRET). Empty: generated once and kept in
    // <data_path>/jwt_secret. Changing it invalidates every token issued.
    std::string jwt_secret;
    // root's password, applied at every start (KALAMDB_ROOT_PASSWORD). Empty: root keeps
    // the password it has; with none, it logs in from loopback only, with an empty password.
    std::string root_password;
    // bcrypt work factor for new password hashes, 4 to 31; each step doubles the cost of a
    // login and of a Basic check not in the cache.
    int bcrypt_cost = 12;
    // Shortest password accepted, in bytes (default 8; at most 72, bcrypt's limit). Besides,
    // all-whitespace passwords and the most common ones are always refused.
    int64_t password_min_length = 8;
    bool trust_user_header = false;  // honour X-USER-ID (development only)
    // Lifetime of access tokens, in seconds (default one hour).
    int64_t access_token_ttl_secs = 3600;
    // Lifetime of refresh tokens, in seconds (default seven days).
    int64_t refresh_token_ttl_secs = 604800;
    // Failed sign-ins (login, Basic credentials, WebSocket authentication) one user name may
    // have within failed_login_window_secs; then it is refused for one window, even with the
    // right password: 429 RATE_LIMIT_EXCEEDED. A successful sign-in forgets the count. 0: off.
    // root from a loopback address is never refused.
    int64_t max_failed_logins_per_user = 10;
    // The same per client address (IPv6: per /64), over all the names it tries. Behind a
    // reverse proxy every client has the proxy's address: raise it or set 0 (off) there.
    int64_t max_failed_logins_per_address = 50;
    // The window of the two limits above, in seconds (default five minutes).
    int64_t failed_login_window_secs = 300;
    // Threads that verify passwords (bcrypt), apart from the threads that run statements,
    // so a flood of sign-ins can't hold up queries. Each costs a core while it hashes.
    int64_t password_check_threads = 2;
    // Password checks that may wait for one of those threads; past it a sign-in is answered
    // 503 SERVICE_UNAVAILABLE at once.
    int64_t password_check_queue = 64;
  } auth;
  // Defaults of the FLUSH_POLICY of tables created without one (STREAM tables never flush).
  struct Flush {
    // Flush once this many rows were written since the last flush. 0: at every check
    // that finds new rows.
    int64_t default_row_limit = 10000;
    // Flush once this many seconds have passed since the last flush, if rows were
    // written. 0: at every check that finds new rows.
    int64_t default_interval_secs = 300;
    // How often, in seconds, the flush policies are checked. 0 counts as 1.
    int64_t check_interval_secs = 5;
  } flush;
  struct Stream {
    // TTL_SECONDS of STREAM tables created without one: rows older than this are hidden
    // at once and removed by the next eviction. 0: rows expire as soon as written.
    int64_t default_ttl_secs = 3600;
    // How often, in seconds, expired STREAM rows are removed from the store. 0 counts as 1.
    int64_t eviction_interval_secs = 10;
  } stream;
  // Topics (src/topics/): durable streams of table changes consumed in groups.
  struct Topics {
    // Seconds a consumed range stays reserved for its group (default 30): not acknowledged
    // by then, it is delivered again.
    int64_t visibility_timeout_secs = 30;
    // Hours a message is kept at least (default 168); older ones go once every group has
    // acknowledged them.
    int64_t retention_hours = 168;
    // Bytes a partition keeps at most, acknowledged or not (oldest messages go first).
    // 0 (the default): no bound. With a bound, each retention check reads the partition.
    uint64_t max_retention_bytes = 0;
    // How often, in seconds, retention is checked (default 60). 0 counts as 1.
    int64_t retention_check_secs = 60;
    // Messages one CONSUME or consume request returns at most (default 10,000).
    int64_t max_consume_limit = 10000;
    // Seconds a consume request may wait for messages at most (default 60).
    int64_t max_wait_secs = 60;
  } topics;
  struct Limits {
    // Largest request body, in bytes (default 4 MiB); larger: 413 PAYLOAD_TOO_LARGE.
    uint64_t max_request_bytes = 4 * 1024 * 1024;
    // Rows a statement's result holds at most (default 100,000); the rest are cut off and
    // the result says "truncated": true. Rows are encoded as the engine produces them, so
    // the rows past the limit are never computed. 0: no limit (the result is still bounded
    // by max_statement_memory_mb).
    uint64_t max_result_rows = 100000;
    // Megabytes one statement may use: the engine's working memory of all statements
    // together is capped at this times the statements that run at once (past it the
    // engine spills to <data_path>/tmp, or fails), a result's encoded JSON at this, and any
    // single block the statement's thread allocates outside the engine's buffer manager
    // (huge values folded into constants) at this; vectors the engine computes are not
    // counted. Past it: 507 RESOURCE_EXHAUSTED. Unset: half the machine's memory divided
    // by the statements that run at once. 0: no limit.
    std::optional<uint64_t> max_statement_memory_mb;
    // Milliseconds a statement may run (default 30,000), waiting for a query connection
    // included; past it the engine interrupts it and it answers 408 STATEMENT_TIMEOUT,
    // with nothing of it applied. 0: no limit.
    int64_t statement_timeout_ms = 30000;
    // Row versions one transaction may write (every INSERT/UPDATE/DELETE row counts) before
    // COMMIT; past it the transaction is rolled back with 507 RESOURCE_EXHAUSTED. 0: no limit.
    uint64_t max_transaction_rows = 100000;
    // Seconds a transaction may wait between statements; past it the next statement is
    // refused with TRANSACTION_ABORTED and the transaction rolled back. 0: no limit.
    int64_t idle_in_transaction_timeout_secs = 60;
  } limits;
  struct RateLimit {
    // POST /v1/api/sql requests per second per user (a token bucket holding one second's
    // worth); past it: 429 RATE_LIMIT_EXCEEDED. 0: off.
    uint32_t queries_per_sec_per_user = 0;
  } rate_limit;
  struct WebSocket {
    // Seconds a connection not authenticated at the upgrade has to send its
    // authenticate message; then auth_error AUTH_REQUIRED and close.
    int64_t auth_timeout_secs = 5;
    // Live subscriptions on one connection at most; past it SUBSCRIPTION_LIMIT_EXCEEDED.
    // 0: none allowed.
    int64_t max_subscriptions_per_connection = 100;
    // The same over all of a user's connections.
    int64_t max_subscriptions_per_user = 1000;
    // Bytes of messages a connection may have waiting to be sent (default 8 MiB); past
    // it the client gets MESSAGE_TOO_LARGE, its subscriptions end and it is closed, so a
    // slow client never holds back writers or other subscribers.
    uint64_t max_pending_bytes = 8 * 1024 * 1024;
  } websocket;
  struct Metrics {
    // GET /metrics answers the server's figures in the Prometheus text format: without
    // authentication to a client on a loopback address, otherwise to dba and system only.
    // false: the route is NOT_FOUND. Counting costs a few atomic increments per request.
    bool enabled = true;
  } metrics;
  // The Postgres wire protocol door (src/pgwire/): psql and Postgres drivers connect here.
  struct PostgresWire {
    bool enabled = true;  // false: no listener
    // The address to listen on. Empty: the same as [server] host.
    std::string host;
    // The TCP port (default 5433, beside a local PostgreSQL's 5432). 0: any free port,
    // named in the log.
    uint16_t port = 5433;
    // Open connections at most (default 1,000); past it a client gets an ErrorResponse
    // with SQLSTATE 53300 and is closed. 0: no cap.
    int64_t max_connections = 1000;
    // Largest message a client may send, in bytes (default 64 MiB): the buffer one
    // connection may ask the server to hold. Larger: an error, then the connection closes.
    uint64_t max_message_bytes = 64 * 1024 * 1024;
    // Seconds a new connection has to finish its start-up and authentication (default
    // 10); then it is closed, so half-open connections don't hold descriptors.
    int64_t startup_timeout_secs = 10;
  } postgres_wire;
  // Cluster mode (src/cluster/): with no [cluster] section (no etcd_endpoints) the server
  // is a single node. With it, the node registers in etcd, which holds the cluster's
  // membership, its fixed settings and (later) its catalog and shard map.
  struct Cluster {
    // This node's name in the cluster: letters, digits, '-' and '_', at most 64. A second
    // running node with the same name is refused at start-up.
    std::string node_id;
    // host:port other nodes and clients reach this node's HTTP door at. Empty: [server]
    // host and port (then the port may not be 0).
    std::string advertise;
    // etcd's client URLs (http://host:port), any member of the etcd cluster.
    std::vector<std::string> etcd_endpoints;
    // The port the shards' Raft groups replicate over (every group of the node shares
    // it), on [server] host; others reach it on advertise's host. Required in cluster
    // mode; advertise's host must then be an IPv4 address.
    uint16_t raft_port = 0;
    // Shards the users' rows are spread over (default 32). Fixed when the cluster is
    // created: a node configured otherwise is refused at start-up.
    int64_t shards = 32;
    // Copies of each shard (default 3), fixed like shards.
    int64_t replication_factor = 3;
    // Seconds a node stays listed as alive after its last heartbeat (its etcd lease, kept
    // alive every third of it). Lower: a lost node is noticed sooner, at more etcd traffic.
    int64_t heartbeat_ttl_secs = 5;
    // Seconds a node may stay down (no heartbeat) before it counts as lost and its
    // replicas move to the alive nodes, one at a time, as off a drained node (default 300;
    // 0: never — they wait for it). A node back before then keeps them.
    int64_t down_node_timeout_secs = 300;
    // Seconds start-up waits for etcd to answer (and for a former run's lease on this
    // node_id to lapse) before giving up.
    int64_t join_timeout_secs = 30;
    // A directory every node reaches at this same path (a shared mount): the cluster's
    // storage 'local', where flushes write the cold Parquet segments and manifests every
    // replica reads. Empty: rows stay in the replicated hot store (FLUSH is refused).
    std::string shared_storage_path;
    // The prefix of every key this cluster keeps in etcd, so that several clusters may
    // share one etcd (default "/kalamdb/").
    std::string etcd_prefix = "/kalamdb/";

    bool enabled() const { return !etcd_endpoints.empty(); }
  } cluster;
  struct Logging {
    // trace | debug | info | warn | error. Not checked when loading: a name spdlog does
    // not know turns logging off.
    std::string level = "info";
    std::string format = "text";  // text | json
  } logging;
};

// Reads the TOML file at path (when given) over the defaults, then applies the
// KALAMDB_* environment overrides. INVALID_INPUT naming the key on a bad file or value.
Result<Config> LoadConfig(const std::optional<std::string>& path);

}  // namespace kalam
