#include "common/config.h"

#include <cstdlib>
#include <filesystem>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace kalam {
namespace {

template <typename T>
Status Read(const toml::table& root, const char* section, const char* key, T& out) {
  const toml::node* node = root.at_path(std::string(section) + "." + key).node();
  if (node == nullptr) return Status::Ok();
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node->value<std::string>()) {
      out = *v;
      return Status::Ok();
    }
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (const toml::array* list = node->as_array()) {
      std::vector<std::string> values;
      for (const auto& item : *list) {
        auto v = item.value<std::string>();
        if (!v) {
          return {Code::kInvalidInput,
                  std::string("Configuration key ") + section + "." + key + " must be a list of strings"};
        }
        values.push_back(*v);
      }
      out = std::move(values);
      return Status::Ok();
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node->value<bool>()) {
      out = *v;
      return Status::Ok();
    }
  } else {
    if (auto v = node->value<int64_t>(); v && *v >= 0) {
      out = static_cast<T>(*v);
      return Status::Ok();
    }
  }
  return {Code::kInvalidInput,
          std::string("Configuration key ") + section + "." + key + " has the wrong type"};
}

Status ApplyFile(const std::string& path, Config& c) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return {Code::kInvalidInput, "Cannot read configuration " + path + ": " +
                                     std::string(e.description())};
  }
  Status s;
  auto read = [&](const char* section, const char* key, auto& out) {
    if (s.ok()) s = Read(root, section, key, out);
  };
  read("server", "host", c.server.host);
  read("server", "port", c.server.port);
  read("server", "workers", c.server.workers);
  read("server", "max_connections", c.server.max_connections);
  read("storage", "data_path", c.storage.data_path);
  read("storage", "sync_writes", c.storage.sync_writes);
  read("storage", "block_cache_mb", c.storage.block_cache_mb);
  read("storage", "cold_cache_mb", c.storage.cold_cache_mb);
  if (root.at_path("backup.allowed_directories").node() != nullptr) {
    std::vector<std::string> dirs;
    read("backup", "allowed_directories", dirs);
    c.backup.allowed_directories = std::move(dirs);
  }
  read("auth", "jwt_secret", c.auth.jwt_secret);
  read("auth", "root_password", c.auth.root_password);
  read("auth", "bcrypt_cost", c.auth.bcrypt_cost);
  read("auth", "password_min_length", c.auth.password_min_length);
  read("auth", "trust_user_header", c.auth.trust_user_header);
  read("auth", "access_token_ttl_secs", c.auth.access_token_ttl_secs);
  read("auth", "refresh_token_ttl_secs", c.auth.refresh_token_ttl_secs);
  read("auth", "max_failed_logins_per_user", c.auth.max_failed_logins_per_user);
  read("auth", "max_failed_logins_per_address", c.auth.max_failed_logins_per_address);
  read("auth", "failed_login_window_secs", c.auth.failed_login_window_secs);
  read("auth", "password_check_threads", c.auth.password_check_threads);
  read("auth", "password_check_queue", c.auth.password_check_queue);
  read("flush", "default_row_limit", c.flush.default_row_limit);
  read("flush", "default_interval_secs", c.flush.default_interval_secs);
  read("flush", "check_interval_secs", c.flush.check_interval_secs);
  read("stream", "default_ttl_secs", c.stream.default_ttl_secs);
  read("stream", "eviction_interval_secs", c.stream.eviction_interval_secs);
  read("topics", "visibility_timeout_secs", c.topics.visibility_timeout_secs);
  read("topics", "retention_hours", c.topics.retention_hours);
  read("topics", "max_retention_bytes", c.topics.max_retention_bytes);
  read("topics", "retention_check_secs", c.topics.retention_check_secs);
  read("topics", "max_consume_limit", c.topics.max_consume_limit);
  read("topics", "max_wait_secs", c.topics.max_wait_secs);
  read("limits", "max_request_bytes", c.limits.max_request_bytes);
  read("limits", "max_result_rows", c.limits.max_result_rows);
  if (root.at_path("limits.max_statement_memory_mb").node() != nullptr) {
    uint64_t mb = 0;
    read("limits", "max_statement_memory_mb", mb);
    c.limits.max_statement_memory_mb = mb;
  }
  read("limits", "statement_timeout_ms", c.limits.statement_timeout_ms);
  read("limits", "max_transaction_rows", c.limits.max_transaction_rows);
  read("limits", "idle_in_transaction_timeout_secs", c.limits.idle_in_transaction_timeout_secs);
  read("rate_limit", "queries_per_sec_per_user", c.rate_limit.queries_per_sec_per_user);
  read("websocket", "auth_timeout_secs", c.websocket.auth_timeout_secs);
  read("websocket", "max_subscriptions_per_connection",
       c.websocket.max_subscriptions_per_connection);
  read("websocket", "max_subscriptions_per_user", c.websocket.max_subscriptions_per_user);
  read("websocket", "max_pending_bytes", c.websocket.max_pending_bytes);
  read("metrics", "enabled", c.metrics.enabled);
  read("postgres_wire", "enabled", c.postgres_wire.enabled);
  read("postgres_wire", "host", c.postgres_wire.host);
  read("postgres_wire", "port", c.postgres_wire.port);
  read("postgres_wire", "max_connections", c.postgres_wire.max_connections);
  read("postgres_wire", "max_message_bytes", c.postgres_wire.max_message_bytes);
  read("postgres_wire", "startup_timeout_secs", c.postgres_wire.startup_timeout_secs);
  read("cluster", "node_id", c.cluster.node_id);
  read("cluster", "advertise", c.cluster.advertise);
  read("cluster", "etcd_endpoints", c.cluster.etcd_endpoints);
  read("cluster", "raft_port", c.cluster.raft_port);
  read("cluster", "shards", c.cluster.shards);
  read("cluster", "replication_factor", c.cluster.replication_factor);
  read("cluster", "heartbeat_ttl_secs", c.cluster.heartbeat_ttl_secs);
  read("cluster", "down_node_timeout_secs", c.cluster.down_node_timeout_secs);
  read("cluster", "join_timeout_secs", c.cluster.join_timeout_secs);
  read("cluster", "etcd_prefix", c.cluster.etcd_prefix);
  read("cluster", "shared_storage_path", c.cluster.shared_storage_path);
  read("logging", "level", c.logging.level);
  read("logging", "format", c.logging.format);
  return s;
}

// [cluster]: a node that joins with settings it can't keep is refused before it starts.
Status CheckCluster(const Config& c) {
  const Config::Cluster& k = c.cluster;
  if (!k.enabled()) {
    if (!k.node_id.empty() || !k.advertise.empty()) {
      return {Code::kInvalidInput, "cluster.etcd_endpoints is empty: a cluster node needs etcd"};
    }
    return Status::Ok();
  }
  auto invalid = [](std::string message) { return Status(Code::kInvalidInput, std::move(message)); };
  if (k.node_id.empty() || k.node_id.size() > 64 ||
      !std::all_of(k.node_id.begin(), k.node_id.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_';
      })) {
    return invalid("cluster.node_id must be 1 to 64 letters, digits, '-' or '_'");
  }
  for (const std::string& endpoint : k.etcd_endpoints) {
    const bool http = endpoint.rfind("http://", 0) == 0;
    const auto colon = endpoint.rfind(':');
    if (!http || colon == std::string::npos || colon < 7 || colon + 1 == endpoint.size()) {
      return invalid("cluster.etcd_endpoints: '" + endpoint + "' is not http://host:port");
    }
  }
  const auto colon = k.advertise.rfind(':');
  if (!k.advertise.empty() && (colon == std::string::npos || colon == 0 ||
                               colon + 1 == k.advertise.size() || k.advertise.substr(colon + 1) == "0")) {
    return invalid("cluster.advertise must be host:port with the port other nodes reach (got '" +
                   k.advertise + "')");
  }
  if (k.raft_port == 0) {
    return invalid("cluster.raft_port must be set: the port this node's shards replicate over");
  }
  if (k.shards < 1 || k.shards > 4096) return invalid("cluster.shards must be between 1 and 4096");
  if (k.replication_factor < 1 || k.replication_factor > 7) {
    return invalid("cluster.replication_factor must be between 1 and 7");
  }
  if (k.heartbeat_ttl_secs < 2 || k.heartbeat_ttl_secs > 600) {
    return invalid("cluster.heartbeat_ttl_secs must be between 2 and 600");
  }
  if (k.down_node_timeout_secs != 0 && (k.down_node_timeout_secs < 2 || k.down_node_timeout_secs > 7 * 86400)) {
    return invalid("cluster.down_node_timeout_secs must be 0 (never) or between 2 and 604800");
  }
  if (k.etcd_prefix.empty() || k.etcd_prefix.front() != '/' || k.etcd_prefix.back() != '/') {
    return invalid("cluster.etcd_prefix must start and end with '/'");
  }
  if (!k.shared_storage_path.empty() && k.shared_storage_path.front() != '/') {
    return invalid("cluster.shared_storage_path must be an absolute path (every node reaches it at the same path)");
  }
  return Status::Ok();
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

Result<Config> LoadConfig(const std::optional<std::string>& path) {
  Config c;
  if (path) KALAM_RETURN_IF_ERROR(ApplyFile(*path, c));
  if (const char* v = Env("KALAMDB_HOST")) c.server.host = v;
  if (const char* v = Env("KALAMDB_PORT")) {
    char* end = nullptr;
    long port = std::strtol(v, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) {
      return Status(Code::kInvalidInput, std::string("KALAMDB_PORT is not a port: ") + v);
    }
    c.server.port = static_cast<uint16_t>(port);
  }
  if (const char* v = Env("KALAMDB_DATA_PATH")) c.storage.data_path = v;
  if (const char* v = Env("KALAMDB_JWT_SECRET")) c.auth.jwt_secret = v;
  if (const char* v = Env("KALAMDB_ROOT_PASSWORD")) c.auth.root_password = v;
  if (c.auth.bcrypt_cost < 4 || c.auth.bcrypt_cost > 31) {
    return Status(Code::kInvalidInput, "auth.bcrypt_cost must be between 4 and 31");
  }
  if (c.auth.password_check_threads < 1) {
    return Status(Code::kInvalidInput, "auth.password_check_threads must be at least 1");
  }
  if (c.storage.block_cache_mb < 1 || c.storage.block_cache_mb > (int64_t{1} << 20)) {
    return Status(Code::kInvalidInput, "storage.block_cache_mb must be between 1 and 1048576");
  }
  if (c.storage.cold_cache_mb < 0 || c.storage.cold_cache_mb > (int64_t{1} << 20)) {
    return Status(Code::kInvalidInput, "storage.cold_cache_mb must be between 0 and 1048576");
  }
  KALAM_RETURN_IF_ERROR(CheckCluster(c));
  if (c.logging.format != "text" && c.logging.format != "json") {
    return Status(Code::kInvalidInput, "logging.format must be text or json");
  }
  return c;
}

std::vector<std::string> Config::BackupDirectories() const {
  if (backup.allowed_directories) return *backup.allowed_directories;
  const std::filesystem::path data = std::filesystem::absolute(storage.data_path).lexically_normal();
  return {(data.parent_path() / "backups").string()};
}

uint64_t Config::StatementMemoryBytes(int statements_at_once) const {
  constexpr uint64_t kMiB = 1024 * 1024;
  if (limits.max_statement_memory_mb) return *limits.max_statement_memory_mb * kMiB;
  const uint64_t machine = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                           static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
  return machine / 2 / static_cast<uint64_t>(std::max(1, statements_at_once));
}

std::string Config::ClusterAddress() const {
  if (!cluster.advertise.empty()) return cluster.advertise;
  return server.host + ":" + std::to_string(server.port);
}

}  // namespace kalam
