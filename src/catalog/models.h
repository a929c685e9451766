// The catalog's typed models: what system.users, system.namespaces and system.storages
// show. Timestamps are microseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/role.h"

namespace kalam::catalog {

struct User {
  std::string user_id;  // stable and never reused; "root" for the bootstrap user
  std::string username;
  auth::Role role = auth::Role::kUser;
  std::string password_hash;  // bcrypt; empty: no password (root without one)
  std::optional<std::string> email;
  std::string auth_type = "password";
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> last_seen;
  std::optional<int64_t> deleted_at;  // soft delete: set by DROP USER, login refused

  bool deleted() const { return deleted_at.has_value(); }
};

struct Namespace {
  std::string name;  // also its id
  std::string options_json = "{}";
  int64_t created_at = 0;
};

struct Storage {
  std::string storage_id;
  std::string storage_name;
  std::string description;
  std::string storage_type = "filesystem";
  std::string base_directory;
  std::string shared_tables_template = "{namespace}/{tableName}";
  std::string user_tables_template = "{namespace}/{tableName}/{userId}";
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

}  // namespace kalam::catalog
