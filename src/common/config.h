// Server configuration (SPEC §6): built-in defaults, then a TOML file, then environment
// variables, then command-line flags.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace kalam {

struct Config {
  struct Server {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    int workers = 0;  // 0: one per core
  } server;
  struct Storage {
    std::string data_path = "./data";
    // true: every acknowledged statement is fsynced (durable against power loss).
    // false: durable against a process crash only. Costs one fsync per group commit.
    bool sync_writes = false;
  } storage;
  struct Auth {
    std::string jwt_secret;     // empty: generated once and kept in the data directory
    std::string root_password;  // empty: root logs in from loopback only, no password
    int bcrypt_cost = 12;
    bool trust_user_header = false;  // honour X-USER-ID (development only)
    int64_t access_token_ttl_secs = 3600;
    int64_t refresh_token_ttl_secs = 604800;
  } auth;
  struct Flush {
    int64_t default_row_limit = 10000;
    int64_t default_interval_secs = 300;
    int64_t check_interval_secs = 5;
  } flush;
  struct Stream {
    int64_t default_ttl_secs = 3600;
    int64_t eviction_interval_secs = 10;
  } stream;
  struct Limits {
    uint64_t max_request_bytes = 4 * 1024 * 1024;
    uint64_t max_result_rows = 0;  // 0: no limit
  } limits;
  struct RateLimit {
    uint32_t queries_per_sec_per_user = 0;  // 0: off
  } rate_limit;
  struct WebSocket {
    int64_t auth_timeout_secs = 5;
    int64_t max_subscriptions_per_connection = 100;
    int64_t max_subscriptions_per_user = 1000;  // over all of a user's connections
    uint64_t max_pending_bytes = 8 * 1024 * 1024;
  } websocket;
  struct Logging {
    std::string level = "info";  // trace | debug | info | warn | error
    std::string format = "text";  // text | json
  } logging;
};

// Reads the TOML file at path (when given) over the defaults, then applies the
// KALAMDB_* environment overrides. INVALID_INPUT naming the key on a bad file or value.
Result<Config> LoadConfig(const std::optional<std::string>& path);

}  // namespace kalam
