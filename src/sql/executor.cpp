#include "sql/executor.h"

#include <type_traits>

#include "auth/password.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "sql/kalam_statement.h"
#include "sql/splitter.h"

namespace kalam::sql {
namespace {

using auth::Caller;
using auth::Role;

StatementResult Done(std::string message, uint64_t row_count = 0) {
  StatementResult r;
  r.message = std::move(message);
  r.row_count = row_count;
  return r;
}

Status Denied(const Caller& caller, const std::string& what) {
  return {
      Code::kPermissionDenied,
      "Permission denied: role '" + std::string(auth::RoleName(caller.role)) + "' may not " + what};
}

// The users a caller may manage: admins manage users of their role and below; only a
// system user manages system users.
bool MayManage(const Caller& caller, Role target_role) {
  return auth::IsAdmin(caller.role) &&
         (target_role != Role::kSystem || caller.role == Role::kSystem);
}

Result<Role> ParseRoleOrError(const std::string& name) {
  auto role = auth::ParseRole(name);
  if (!role) {
    return Status(Code::kInvalidSql,
                  "Unknown role '" + name + "': use user, service, dba or system");
  }
  return *role;
}

}  // namespace

BatchResult Executor::Execute(const Caller& caller, const BatchRequest& request) {
  BatchResult batch;
  std::vector<std::string> statements = SplitStatements(request.sql);
  if (statements.empty()) {
    batch.error = {Code::kEmptySql, "The request holds no SQL statement"};
    return batch;
  }
  if (request.params && statements.size() > 1) {
    batch.error = {Code::kParamsWithBatch, "Parameters can be used with a single statement only"};
    return batch;
  }
  for (size_t i = 0; i < statements.size(); ++i) {
    std::string sql = std::move(statements[i]);
    if (request.params) {
      auto bound = BindParams(sql, *request.params);
      if (!bound.ok()) {
        batch.error = bound.status();
        batch.statement_index = i + 1;
        return batch;
      }
      sql = std::move(bound).value();
    }
    auto result = RunStatement(caller, sql, request.default_namespace);
    if (!result.ok()) {
      batch.error = result.status();
      batch.statement_index = i + 1;
      return batch;
    }
    batch.results.push_back(std::move(result).value());
  }
  return batch;
}

Result<StatementResult> Executor::RunStatement(const Caller& caller, const std::string& sql,
                                               const std::string& default_namespace) {
  auto parsed = ParseKalamStatement(sql);
  if (!parsed.ok()) return parsed.status();
  query::QueryContext context{caller, default_namespace};
  if (!parsed->has_value()) {
    auto rows = engine_.Query(context, sql);
    if (!rows.ok()) return rows.status();
    StatementResult r;
    r.row_count = rows->row_count;
    r.rows = std::move(rows).value();
    return r;
  }

  auto query = [&](const std::string& select) -> Result<StatementResult> {
    auto rows = engine_.Query(context, select);
    if (!rows.ok()) return rows.status();
    StatementResult r;
    r.row_count = rows->row_count;
    r.rows = std::move(rows).value();
    return r;
  };

  return std::visit(
      [&](auto& stmt) -> Result<StatementResult> {
        using T = std::decay_t<decltype(stmt)>;
        if constexpr (std::is_same_v<T, CreateNamespace>) {
          if (!auth::MayRunDdl(caller.role)) return Denied(caller, "create namespaces");
          KALAM_RETURN_IF_ERROR(catalog_.CreateNamespace(stmt.name, stmt.if_not_exists));
          return Done("Namespace '" + stmt.name + "' created");
        } else if constexpr (std::is_same_v<T, DropNamespace>) {
          if (!auth::MayRunDdl(caller.role)) return Denied(caller, "drop namespaces");
          KALAM_RETURN_IF_ERROR(catalog_.DropNamespace(stmt.name, stmt.if_exists, stmt.cascade));
          return Done("Namespace '" + stmt.name + "' dropped");
        } else if constexpr (std::is_same_v<T, AlterNamespace>) {
          if (!auth::MayRunDdl(caller.role)) return Denied(caller, "alter namespaces");
          std::map<std::string, std::string> options(stmt.options.begin(), stmt.options.end());
          KALAM_RETURN_IF_ERROR(catalog_.SetNamespaceOptions(stmt.name, options));
          return Done("Namespace '" + stmt.name + "' altered");
        } else if constexpr (std::is_same_v<T, ShowNamespaces>) {
          return query(
              "SELECT namespace_id, name, options, table_count, created_at "
              "FROM system.namespaces ORDER BY namespace_id");
        } else if constexpr (std::is_same_v<T, ShowStorages>) {
          return query("SELECT * FROM system.storages ORDER BY storage_id");
        } else if constexpr (std::is_same_v<T, CreateUser>) {
          auto role = ParseRoleOrError(stmt.role);
          if (!role.ok()) return role.status();
          if (!MayManage(caller, *role)) {
            return Denied(caller, "create users with role '" + stmt.role + "'");
          }
          KALAM_RETURN_IF_ERROR(catalog::Catalog::ValidateUsername(stmt.username));
          KALAM_RETURN_IF_ERROR(auth::ValidatePassword(stmt.password));
          auto state = catalog_.snapshot();
          if (const auto* existing = state->FindUserByName(stmt.username);
              existing != nullptr && !existing->deleted()) {
            if (stmt.if_not_exists) return Done("User '" + stmt.username + "' already exists");
            return Status(Code::kAlreadyExists, "User '" + stmt.username + "' already exists");
          }
          auto hash = auth::HashPassword(stmt.password, config_.auth.bcrypt_cost);
          if (!hash.ok()) return hash.status();
          catalog::User user;
          user.username = stmt.username;
          user.role = *role;
          user.password_hash = std::move(hash).value();
          user.email = stmt.email;
          KALAM_RETURN_IF_ERROR(catalog_.CreateUser(std::move(user), stmt.if_not_exists));
          return Done("User '" + stmt.username + "' created", 1);
        } else if constexpr (std::is_same_v<T, AlterUser>) {
          auto state = catalog_.snapshot();
          const catalog::User* found = state->FindUserByName(stmt.username);
          if (found == nullptr || found->deleted()) {
            return Status(Code::kNotFound, "User '" + stmt.username + "' does not exist");
          }
          catalog::User user = *found;
          const bool self = user.user_id == caller.user_id;
          switch (stmt.field) {
            case AlterUser::Field::kPassword: {
              if (!self && !MayManage(caller, user.role)) {
                return Denied(caller, "change the password of '" + stmt.username + "'");
              }
              KALAM_RETURN_IF_ERROR(auth::ValidatePassword(stmt.value));
              auto hash = auth::HashPassword(stmt.value, config_.auth.bcrypt_cost);
              if (!hash.ok()) return hash.status();
              user.password_hash = std::move(hash).value();
              break;
            }
            case AlterUser::Field::kRole: {
              auto role = ParseRoleOrError(stmt.value);
              if (!role.ok()) return role.status();
              if (!MayManage(caller, user.role) || !MayManage(caller, *role)) {
                return Denied(caller, "change the role of '" + stmt.username + "'");
              }
              if (user.user_id == "root") {
                return Status(Code::kPermissionDenied, "The role of 'root' cannot change");
              }
              user.role = *role;
              break;
            }
            case AlterUser::Field::kEmail:
              if (!self && !MayManage(caller, user.role)) {
                return Denied(caller, "change the email of '" + stmt.username + "'");
              }
              user.email = stmt.value;
              break;
          }
          user.updated_at = NowMicros();
          KALAM_RETURN_IF_ERROR(catalog_.UpdateUser(user));
          return Done("User '" + stmt.username + "' altered", 1);
        } else if constexpr (std::is_same_v<T, DropUser>) {
          auto state = catalog_.snapshot();
          const catalog::User* found = state->FindUserByName(stmt.username);
          if (found == nullptr || found->deleted()) {
            if (stmt.if_exists && auth::IsAdmin(caller.role)) {
              return Done("User '" + stmt.username + "' does not exist");
            }
            if (!auth::IsAdmin(caller.role)) return Denied(caller, "drop users");
            return Status(Code::kNotFound, "User '" + stmt.username + "' does not exist");
          }
          if (!MayManage(caller, found->role)) {
            return Denied(caller, "drop user '" + stmt.username + "'");
          }
          if (found->user_id == "root") {
            return Status(Code::kPermissionDenied, "The user 'root' cannot be dropped");
          }
          catalog::User user = *found;
          user.deleted_at = user.updated_at = NowMicros();
          KALAM_RETURN_IF_ERROR(catalog_.UpdateUser(user));
          return Done("User '" + stmt.username + "' dropped", 1);
        } else {
          return Status(Code::kInvalidSql, "Tables are not available yet");
        }
      },
      parsed->value());
}

}  // namespace kalam::sql
