#include "sql/executor.h"

#include <cctype>
#include <filesystem>

#include "auth/password.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/json_text.h"
#include "jobs/job_manager.h"
#include "live/hub.h"
#include "live/subscription.h"
#include "sql/splitter.h"
#include "sql/storage_statement.h"
#include "store/committer.h"
#include "store/row_codec.h"

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
  return {Code::kPermissionDenied, "Permission denied: role '" +
                                       std::string(auth::RoleName(caller.role)) + "' may not " +
                                       what};
}

// The users a caller may manage: admins manage users of their role and below; only a
// system user manages system users.
bool MayManage(const Caller& caller, Role target_role) {
  return auth::IsAdmin(caller.role) && (target_role != Role::kSystem || caller.role == Role::kSystem);
}

// EXECUTE AS USER (SPEC §3.3): system → anyone; dba → dba, service, user;
// service → service, user; user → only themself.
bool MayActAs(const Caller& caller, const catalog::User& target) {
  if (caller.user_id == target.user_id) return true;
  switch (caller.role) {
    case Role::kSystem: return true;
    case Role::kDba: return target.role <= Role::kDba;
    case Role::kService: return target.role <= Role::kService;
    case Role::kUser: return false;
  }
  return false;
}

Result<Role> ParseRoleOrError(const std::string& name) {
  auto role = auth::ParseRole(name);
  if (!role) {
    return Status(Code::kInvalidSql,
                  "Unknown role '" + name + "': use user, service, dba or system");
  }
  return *role;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWithWords(std::string_view sql, std::initializer_list<std::string_view> words) {
  size_t i = 0;
  for (std::string_view word : words) {
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    if (sql.size() - i < word.size()) return false;
    for (size_t k = 0; k < word.size(); ++k) {
      if (std::toupper(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
    }
    i += word.size();
    if (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_')) {
      return false;
    }
  }
  return true;
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
  if (StartsWithWords(sql, {"EXECUTE", "AS", "USER"})) {
    return RunExecuteAs(caller, sql, default_namespace);
  }
  if (StartsWithWords(sql, {"KILL", "LIVE", "QUERY"})) return RunKillLiveQuery(caller, sql);
  if (StartsWithWords(sql, {"KILL", "JOB"})) return RunKillJob(caller, sql);
  if (StartsWithWords(sql, {"FLUSH"}) || StartsWithWords(sql, {"STORAGE", "FLUSH"}) ||
      StartsWithWords(sql, {"STORAGE", "COMPACT"})) {
    return RunFlush(Scope{caller, default_namespace}, sql);
  }
  if (StartsWithWords(sql, {"SUBSCRIBE", "TO"})) {
    return RunSubscribeTo(Scope{caller, default_namespace}, sql);
  }
  auto storage = ParseStorageStatement(sql);
  if (!storage.ok()) return storage.status();
  if (storage->has_value()) {
    return std::visit([&](const auto& stmt) { return RunStorage(caller, stmt); }, **storage);
  }
  auto parsed = ParseKalamStatement(sql);
  if (!parsed.ok()) return parsed.status();
  const Scope scope{caller, default_namespace};
  if (!parsed->has_value()) {
    auto outcome = engine_.Execute({caller, default_namespace}, sql);
    if (!outcome.ok()) return outcome.status();
    StatementResult r;
    r.rows = std::move(outcome->rows);
    r.row_count = outcome->row_count;
    r.message = std::move(outcome->message);
    return r;
  }
  return std::visit([&](const auto& stmt) { return Run(scope, stmt); }, parsed->value());
}

// EXECUTE AS USER 'name' ( statement )
Result<StatementResult> Executor::RunExecuteAs(const Caller& caller, const std::string& sql,
                                               const std::string& default_namespace) {
  auto invalid = [] {
    return Status(Code::kInvalidSql, "Expected EXECUTE AS USER 'name' ( statement )");
  };
  size_t i = sql.find('\'');
  if (i == std::string::npos) return invalid();
  std::string username;
  for (++i; i < sql.size(); ++i) {
    if (sql[i] == '\'') {
      if (i + 1 < sql.size() && sql[i + 1] == '\'') {
        username.push_back('\'');
        ++i;
        continue;
      }
      break;
    }
    username.push_back(sql[i]);
  }
  if (i >= sql.size()) return invalid();
  const size_t open = sql.find_first_not_of(" \t\r\n", i + 1);
  size_t close = sql.find_last_not_of(" \t\r\n;");
  if (open == std::string::npos || sql[open] != '(' || close == std::string::npos ||
      sql[close] != ')' || close <= open) {
    return invalid();
  }
  const std::string inner = sql.substr(open + 1, close - open - 1);
  auto state = catalog_.snapshot();
  const catalog::User* target = state->FindUserByName(username);
  if (target == nullptr || target->deleted()) {
    return Status(Code::kNotFound, "User '" + username + "' does not exist");
  }
  if (!MayActAs(caller, *target)) return Denied(caller, "execute as '" + username + "'");
  if (StartsWithWords(inner, {"EXECUTE", "AS"})) return invalid();
  const Caller as{target->user_id, target->username, target->role};
  auto result = RunStatement(as, inner, default_namespace);
  if (result.ok()) result->as_user = target->user_id;
  return result;
}

Result<StatementResult> Executor::RunKillLiveQuery(const Caller& caller, const std::string& sql) {
  const size_t open = sql.find('\'');
  const size_t close = open == std::string::npos ? open : sql.find('\'', open + 1);
  if (close == std::string::npos || sql.find_first_not_of(" \t\r\n;", close + 1) != std::string::npos) {
    return Status(Code::kInvalidSql, "Expected KILL LIVE QUERY 'live_id'");
  }
  const std::string live_id = sql.substr(open + 1, close - open - 1);
  KALAM_RETURN_IF_ERROR(hub_.Kill(live_id, caller));
  return Done("Live query '" + live_id + "' killed", 1);
}

// SUBSCRIBE TO t [WHERE cond] [OPTIONS (last_rows = N, ...)]: the subscription to send over
// the WebSocket, checked now so that mistakes show here.
Result<StatementResult> Executor::RunSubscribeTo(const Scope& scope, const std::string& sql) {
  std::string rest = sql.substr(sql.find_first_of("Oo", sql.find_first_not_of(" \t\r\n")) + 2);
  rest = rest.substr(rest.find_first_not_of(" \t\r\n"));  // after TO
  while (!rest.empty() && (rest.back() == ';' || std::isspace(static_cast<unsigned char>(rest.back())))) {
    rest.pop_back();
  }
  std::string options = "{}";
  std::string upper = rest;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const size_t at = upper.rfind("OPTIONS");
  if (at != std::string::npos && upper.find('(', at) != std::string::npos && rest.back() == ')') {
    const std::string body = rest.substr(upper.find('(', at) + 1, rest.size() - upper.find('(', at) - 2);
    rest = rest.substr(0, at);
    options = "{";
    size_t start = 0;
    bool first = true;
    while (start < body.size()) {
      size_t comma = body.find(',', start);
      if (comma == std::string::npos) comma = body.size();
      const std::string item = body.substr(start, comma - start);
      const size_t eq = item.find('=');
      if (eq == std::string::npos) return Status(Code::kInvalidSql, "Expected OPTIONS (name = value, ...)");
      auto trim = [](std::string s) {
        const size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
        return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
      };
      const std::string key = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
      if (key.empty() || value.empty() || value.find_first_not_of("0123456789") != std::string::npos) {
        return Status(Code::kInvalidSql, "Subscription options take whole numbers: " + item);
      }
      options += std::string(first ? "" : ",") + JsonString(key) + ":" + value;
      first = false;
      start = comma + 1;
    }
    options += "}";
  }
  const std::string select = "SELECT * FROM " + rest;
  auto parsed = live::ParseSubscription(select, *catalog_.snapshot(), scope.caller,
                                         scope.default_namespace);
  if (!parsed.ok()) return parsed.status();
  const std::string id = "sub-" + std::to_string(NowMicros());
  const std::string qualified_sql = "SELECT * FROM " + parsed->table->ns + "." + parsed->table->name +
                                    (parsed->where_sql.empty() ? "" : " WHERE " + parsed->where_sql);
  StatementResult r;
  r.message = "{\"status\":\"subscription_required\",\"ws_url\":" +
              JsonString("ws://" + config_.server.host + ":" + std::to_string(config_.server.port) +
                         "/v1/ws") +
              ",\"subscription\":{\"id\":" + JsonString(id) + ",\"sql\":" +
              JsonString(qualified_sql) + ",\"options\":" + options + "}}";
  return r;
}

Result<StatementResult> Executor::RunFlush(const Scope& scope, const std::string& sql) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "flush tables");
  // FLUSH TABLE [ns.]t | STORAGE FLUSH TABLE [ns.]t | FLUSH ALL TABLES [IN ns]
  std::vector<std::string> words;
  {
    std::string word;
    for (char c : sql + " ") {
      if (std::isspace(static_cast<unsigned char>(c)) || c == ';') {
        if (!word.empty()) words.push_back(Lower(word));
        word.clear();
      } else {
        word.push_back(c);
      }
    }
  }
  bool compact = false;
  if (!words.empty() && words[0] == "storage") {
    words.erase(words.begin());
    if (!words.empty() && words[0] == "compact") {
      compact = true;
      words[0] = "flush";
    }
  }
  auto state = catalog_.snapshot();
  std::vector<const catalog::TableDef*> tables;
  if (words.size() == 3 && words[1] == "table") {
    const std::string& name = words[2];
    const size_t dot = name.find('.');
    const std::string ns = dot == std::string::npos ? scope.default_namespace : name.substr(0, dot);
    const std::string table = dot == std::string::npos ? name : name.substr(dot + 1);
    const catalog::TableDef* def = state->FindTable(ns, table);
    if (def == nullptr) return Status(Code::kNotFound, "Table '" + ns + "." + table + "' does not exist");
    if (def->type == catalog::TableType::kStream) {
      return Status(Code::kInvalidSql, "STREAM tables are never flushed");
    }
    tables.push_back(def);
  } else if (words.size() >= 3 && words[1] == "all" && words[2] == "tables" &&
             (words.size() == 3 || (words.size() == 5 && words[3] == "in"))) {
    if (words.size() == 5 && !state->namespaces.contains(words[4])) {
      return Status(Code::kNotFound, "Namespace '" + words[4] + "' does not exist");
    }
    for (const auto& [id, t] : state->tables) {
      if (t.type == catalog::TableType::kStream) continue;
      if (words.size() == 5 && t.ns != words[4]) continue;
      tables.push_back(&t);
    }
  } else {
    return Status(Code::kInvalidSql, "Expected FLUSH TABLE t or FLUSH ALL TABLES [IN ns]");
  }
  std::string values;
  for (const auto* t : tables) {
    const std::string id = t->id();
    if (Status can = engine_.CanFlush(id); !can.ok()) {
      if (tables.size() == 1) return can;
      continue;  // FLUSH ALL TABLES: the others still go
    }
    auto job = jobs_.Submit(compact ? "compact" : "flush", t->ns, t->name,
                            "{\"table_id\":" + JsonString(id) + "}",
                            [this, id, compact](const jobs::JobContext& job) {
                              auto cancelled = [&job] { return job.cancelled(); };
                              return compact ? engine_.Compact(id, cancelled)
                                             : engine_.Flush(id, cancelled);
                            });
    if (!job.ok()) return job.status();
    if (!values.empty()) values += ", ";
    values += "('" + *job + "', '" + t->ns + "." + t->name + "')";
  }
  if (values.empty()) return Done("No table to flush");
  return Query(scope, "SELECT * FROM (VALUES " + values + ") AS jobs(job_id, table_name)");
}

Result<StatementResult> Executor::RunKillJob(const Caller& caller, const std::string& sql) {
  if (!auth::MayRunDdl(caller.role)) return Denied(caller, "kill jobs");
  const size_t open = sql.find('\'');
  const size_t close = open == std::string::npos ? open : sql.find('\'', open + 1);
  if (close == std::string::npos) return Status(Code::kInvalidSql, "Expected KILL JOB 'job_id'");
  const std::string id = sql.substr(open + 1, close - open - 1);
  KALAM_RETURN_IF_ERROR(jobs_.Cancel(id));
  return Done("Job '" + id + "' cancelled", 1);
}

void Executor::CleanUpFiles(const catalog::TableDef& table) {
  auto state = catalog_.snapshot();
  auto storage = state->storages.find(table.storage_id);
  if (storage == state->storages.end()) return;
  const std::string base = storage->second.base_directory;
  const std::string marker = "t" + std::to_string(table.table_num);
  (void)jobs_.Submit("cleanup", table.ns, table.name, "{\"table_num\":" + std::to_string(table.table_num) + "}",
                     [base, marker](const jobs::JobContext&) -> Result<std::string> {
                       namespace fs = std::filesystem;
                       std::error_code ec;
                       std::vector<fs::path> dirs;
                       for (auto it = fs::recursive_directory_iterator(base, ec);
                            !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
                         if (it->is_directory() && it->path().filename() == marker) {
                           dirs.push_back(it->path());
                           it.disable_recursion_pending();
                         }
                       }
                       for (const auto& d : dirs) fs::remove_all(d, ec);
                       return "{\"directories_removed\":" + std::to_string(dirs.size()) + "}";
                     });
}

Result<StatementResult> Executor::RunStorage(const Caller& caller, const CreateStorage& stmt) {
  if (!auth::IsAdmin(caller.role)) return Denied(caller, "create storages");
  if (Lower(stmt.type) != "filesystem") {
    return Status(Code::kInvalidSql, "Storage type '" + stmt.type + "' is not supported: use 'filesystem'");
  }
  if (stmt.base_directory.empty()) return Status(Code::kInvalidSql, "BASE_DIRECTORY can't be empty");
  catalog::Storage storage;
  storage.storage_id = stmt.id;
  storage.storage_name = stmt.name;
  storage.description = stmt.description;
  // A relative base directory is under <data>/storage, where the query engine may write.
  storage.base_directory = (std::filesystem::absolute(config_.storage.data_path) / "storage" /
                            stmt.base_directory).lexically_normal().string();
  if (stmt.shared_tables_template) storage.shared_tables_template = *stmt.shared_tables_template;
  if (stmt.user_tables_template) storage.user_tables_template = *stmt.user_tables_template;
  KALAM_RETURN_IF_ERROR(catalog_.CreateStorage(std::move(storage), stmt.if_not_exists));
  return Done("Storage '" + stmt.id + "' created");
}

Result<StatementResult> Executor::RunStorage(const Caller& caller, const AlterStorage& stmt) {
  if (!auth::IsAdmin(caller.role)) return Denied(caller, "alter storages");
  auto state = catalog_.snapshot();
  auto it = state->storages.find(stmt.id);
  if (it == state->storages.end()) {
    return Status(Code::kNotFound, "Storage '" + stmt.id + "' does not exist");
  }
  catalog::Storage storage = it->second;
  if (stmt.field == "name") storage.storage_name = stmt.value;
  if (stmt.field == "description") storage.description = stmt.value;
  if (stmt.field == "shared_tables_template") storage.shared_tables_template = stmt.value;
  if (stmt.field == "user_tables_template") storage.user_tables_template = stmt.value;
  KALAM_RETURN_IF_ERROR(catalog_.UpdateStorage(storage));
  return Done("Storage '" + stmt.id + "' altered");
}

Result<StatementResult> Executor::RunStorage(const Caller& caller, const DropStorage& stmt) {
  if (!auth::IsAdmin(caller.role)) return Denied(caller, "drop storages");
  KALAM_RETURN_IF_ERROR(catalog_.DropStorage(stmt.id, stmt.if_exists));
  return Done("Storage '" + stmt.id + "' dropped");
}

Result<StatementResult> Executor::Query(const Scope& scope, const std::string& select) {
  auto rows = engine_.Query({scope.caller, scope.default_namespace}, select);
  if (!rows.ok()) return rows.status();
  StatementResult r;
  r.row_count = rows->row_count;
  r.rows = std::move(rows).value();
  return r;
}

Status Executor::RemoveRows(uint64_t table_num) {
  return committer_.Commit([&](store::CommitContext& commit) {
    for (auto family : {store::Family::kHot, store::Family::kStream}) {
      commit.DeleteRange(family, store::TablePrefix(table_num), store::TablePrefix(table_num + 1));
    }
    commit.DeleteRange(store::Family::kHot, store::MarkerTablePrefix(table_num),
                       store::MarkerTablePrefix(table_num + 1));
    return Status::Ok();
  });
}

Result<StatementResult> Executor::Run(const Scope& scope, const CreateNamespace& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "create namespaces");
  if (stmt.if_not_exists && catalog_.snapshot()->namespaces.contains(stmt.name)) {
    return Done("Namespace '" + stmt.name + "' already exists");
  }
  KALAM_RETURN_IF_ERROR(catalog_.CreateNamespace(stmt.name, stmt.if_not_exists));
  return Done("Namespace '" + stmt.name + "' created");
}

Result<StatementResult> Executor::Run(const Scope& scope, const DropNamespace& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "drop namespaces");
  if (stmt.if_exists && !catalog_.snapshot()->namespaces.contains(stmt.name)) {
    return Done("Namespace '" + stmt.name + "' does not exist");
  }
  auto dropped = catalog_.DropNamespace(stmt.name, stmt.if_exists, stmt.cascade);
  if (!dropped.ok()) return dropped.status();
  for (const auto& table : *dropped) {
    KALAM_RETURN_IF_ERROR(RemoveRows(table.table_num));
    hub_.DropTable(table.id());
    CleanUpFiles(table);
  }
  return Done("Namespace '" + stmt.name + "' dropped");
}

Result<StatementResult> Executor::Run(const Scope& scope, const AlterNamespace& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "alter namespaces");
  std::map<std::string, std::string> options(stmt.options.begin(), stmt.options.end());
  KALAM_RETURN_IF_ERROR(catalog_.SetNamespaceOptions(stmt.name, options));
  return Done("Namespace '" + stmt.name + "' altered");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ShowNamespaces&) {
  return Query(scope,
               "SELECT namespace_id, name, options, table_count, created_at "
               "FROM system.namespaces ORDER BY namespace_id");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ShowStorages&) {
  return Query(scope, "SELECT * FROM system.storages ORDER BY storage_id");
}

Result<StatementResult> Executor::Run(const Scope& scope, const CreateUser& stmt) {
  const Caller& caller = scope.caller;
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
}

Result<StatementResult> Executor::Run(const Scope& scope, const AlterUser& stmt) {
  const Caller& caller = scope.caller;
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
  catalog::User user = *found;
  user.deleted_at = user.updated_at = NowMicros();
  KALAM_RETURN_IF_ERROR(catalog_.UpdateUser(user));
  return Done("User '" + stmt.username + "' dropped", 1);
}

}  // namespace kalam::sql
