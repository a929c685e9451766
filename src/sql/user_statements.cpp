// CREATE / ALTER / DROP USER.
#include <functional>

#include "auth/password.h"
#include "auth/scram.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "sql/executor.h"
#include "sql/replies.h"

namespace kalam::sql {
namespace {

using auth::Caller;
using auth::Role;

// The users a caller may manage: admins manage users of their role and below; only a
// system user manages system users.
bool MayManage(const Caller& caller, Role target_role) {
  return auth::IsAdmin(caller.role) && (target_role != Role::kSystem || caller.role == Role::kSystem);
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

Result<StatementResult> Executor::Run(const Scope& scope, const CreateUser& stmt) {
  const Caller& caller = scope.caller;
  auto role = ParseRoleOrError(stmt.role);
  if (!role.ok()) return role.status();
  if (!MayManage(caller, *role)) {
    return Denied(caller, "create users with role '" + stmt.role + "'");
  }
  KALAM_RETURN_IF_ERROR(catalog::Catalog::ValidateUsername(stmt.username));
  KALAM_RETURN_IF_ERROR(
      auth::ValidatePassword(stmt.password, static_cast<size_t>(config_.auth.password_min_length)));
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
  user.scram_verifier = auth::MakeScramVerifier(stmt.password);
  user.email = stmt.email;
  KALAM_RETURN_IF_ERROR(catalog_.CreateUser(std::move(user), stmt.if_not_exists));
  return Done("User '" + stmt.username + "' created", 1);
}

Result<StatementResult> Executor::Run(const Scope& scope, const AlterUser& stmt) {
  const Caller& caller = scope.caller;
  auto state = catalog_.snapshot();
  const catalog::User* found = state->FindUserByName(stmt.username);
  if (found == nullptr || found->deleted()) {
    return Status(Code::kNotFound, "User '" + stmt.username + "' does not exist");
  }
  const bool self = found->user_id == caller.user_id;
  // What changes, decided (and the password hashed) before the catalog's writer lock.
  std::function<void(catalog::User&)> apply;
  switch (stmt.field) {
    case AlterUser::Field::kPassword: {
      if (!self && !MayManage(caller, found->role)) {
        return Denied(caller, "change the password of '" + stmt.username + "'");
      }
      KALAM_RETURN_IF_ERROR(auth::ValidatePassword(
          stmt.value, static_cast<size_t>(config_.auth.password_min_length)));
      auto hash = auth::HashPassword(stmt.value, config_.auth.bcrypt_cost);
      if (!hash.ok()) return hash.status();
      apply = [hash = std::move(hash).value(), verifier = auth::MakeScramVerifier(stmt.value)](catalog::User& u) {
        u.password_hash = hash;
        u.scram_verifier = verifier;
      };
      break;
    }
    case AlterUser::Field::kRole: {
      auto role = ParseRoleOrError(stmt.value);
      if (!role.ok()) return role.status();
      if (!MayManage(caller, found->role) || !MayManage(caller, *role)) {
        return Denied(caller, "change the role of '" + stmt.username + "'");
      }
      if (found->user_id == "root") {
        return Status(Code::kPermissionDenied, "The role of 'root' cannot change");
      }
      apply = [role = *role](catalog::User& u) { u.role = role; };
      break;
    }
    case AlterUser::Field::kEmail:
      if (!self && !MayManage(caller, found->role)) {
        return Denied(caller, "change the email of '" + stmt.username + "'");
      }
      apply = [email = stmt.value](catalog::User& u) { u.email = email; };
      break;
  }
  KALAM_RETURN_IF_ERROR(catalog_.ModifyUser(found->user_id, [&](catalog::User& u) {
    if (u.deleted()) return false;
    apply(u);
    u.updated_at = NowMicros();
    return true;
  }));
  return Done("User '" + stmt.username + "' altered", 1);
}

Result<StatementResult> Executor::Run(const Scope& scope, const DropUser& stmt) {
  const Caller& caller = scope.caller;
  auto state = catalog_.snapshot();
  const catalog::User* found = state->FindUserByName(stmt.username);
  if (!auth::IsAdmin(caller.role)) return Denied(caller, "drop users");
  if (found == nullptr || found->deleted()) {
    if (stmt.if_exists) return Done("User '" + stmt.username + "' does not exist");
    return Status(Code::kNotFound, "User '" + stmt.username + "' does not exist");
  }
  if (!MayManage(caller, found->role)) return Denied(caller, "drop user '" + stmt.username + "'");
  if (found->user_id == "root") {
    return Status(Code::kPermissionDenied, "The user 'root' cannot be dropped");
  }
  KALAM_RETURN_IF_ERROR(catalog_.ModifyUser(found->user_id, [](catalog::User& u) {
    if (u.deleted()) return false;
    u.deleted_at = u.updated_at = NowMicros();
    return true;
  }));
  return Done("User '" + stmt.username + "' dropped", 1);
}

}  // namespace kalam::sql
