// The catalog's typed models: what system.users, system.namespaces and system.storages
// show. Timestamps are microseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/column_type.h"
#include "common/role.h"

namespace kalam::catalog {

// One signed-in session's refresh tokens (auth/refresh_families.h): only the newest of them,
// jti, refreshes.
struct RefreshFamily {
  std::string id;
  std::string jti;
  int64_t expires_at = 0;  // seconds since the epoch: when the newest refresh token expires
};

struct User {
  std::string user_id;  // stable and never reused; "root" for the bootstrap user
  std::string username;
  auth::Role role = auth::Role::kUser;
  std::string password_hash;  // bcrypt; empty: no password (root without one)
  // The password's SCRAM-SHA-256 verifier (auth/scram.h) for the Postgres wire; empty for a
  // password set before verifiers were kept, until its next password sign-in over HTTP.
  std::string scram_verifier;
  std::optional<std::string> email;
  std::string auth_type = "password";
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> last_seen;
  std::optional<int64_t> deleted_at;  // soft delete: set by DROP USER, login refused
  // Every token carries the version it was issued under; a token of another version is
  // refused. Catalog::ModifyUser raises it when the password, the role or the deletion
  // changes (RevokesTokens), which revokes every token of the user.
  int64_t token_version = 0;
  std::vector<RefreshFamily> refresh_families;  // at most auth's cap; expired ones pruned

  bool deleted() const { return deleted_at.has_value(); }
  // Ends every session: tokens issued so far stop working.
  void RevokeTokens() {
    ++token_version;
    refresh_families.clear();
  }
};

// Whether changing before into after revokes the user's tokens: a new password, a new role,
// a drop (or an undrop).
bool RevokesTokens(const User& before, const User& after);
// Whether changing before into after touches only what signing in keeps up to date:
// last_seen, the SCRAM verifier, the refresh-token families (and updated_at).
bool OnlyBookkeeping(const User& before, const User& after);

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

namespace kalam::catalog {

enum class TableType { kUser, kShared, kStream };
std::string_view TableTypeName(TableType type);  // "user" | "shared" | "stream"

using kalam::ColumnType;

struct ColumnDef {
  uint32_t id = 0;  // stable across renames; never reused within a table
  std::string name;
  ColumnType type = ColumnType::kText;
  uint8_t precision = 0;  // kDecimal
  uint8_t scale = 0;
  bool nullable = true;
  bool primary_key = false;
  std::string default_expr;  // canonical SQL ("NOW()", "'x'", "42"); empty: none

  // "BIGINT", "DECIMAL(10,2)", ...
  std::string SqlType() const;
};

struct TableSchema {
  uint32_t version = 1;
  std::vector<ColumnDef> columns;  // declaration order
  std::string changes;             // what made this version, e.g. "ADD COLUMN x"
  int64_t created_at = 0;

  int PrimaryKeyIndex() const;  // -1: none (STREAM tables)
  const ColumnDef* Find(std::string_view name) const;
};

struct TableDef {
  uint64_t table_num = 0;  // the key prefix of the table's rows; never reused
  std::string ns;
  std::string name;
  TableType type = TableType::kShared;
  std::string storage_id = "local";
  std::optional<int64_t> flush_rows;
  std::optional<int64_t> flush_interval_secs;
  std::optional<int64_t> ttl_seconds;  // STREAM tables
  std::string access_level = "private";  // SHARED tables: public | private
  int64_t deleted_retention_hours = 168;
  int64_t created_at = 0;
  std::vector<TableSchema> schemas;  // every version, oldest first; never empty

  std::string id() const { return ns + ":" + name; }
  const TableSchema& current() const { return schemas.back(); }
  const TableSchema* Version(uint32_t version) const;
  std::string FlushPolicyJson() const;
};

}  // namespace kalam::catalog
