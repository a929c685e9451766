// Storages (CREATE / ALTER / DROP STORAGE), flush and compaction jobs (FLUSH TABLE,
// FLUSH ALL TABLES, STORAGE FLUSH / COMPACT TABLE), KILL JOB, and the cleanup of a dropped
// table's files.
#include <filesystem>

#include "auth/table_access.h"
#include "catalog/catalog.h"
#include "common/json_text.h"
#include "common/text.h"
#include "jobs/job_manager.h"
#include "sql/executor.h"

#include "jobs/backup.h"
#include "sql/replies.h"

namespace kalam::sql {

Result<StatementResult> Executor::Run(const Scope& scope, const FlushTable& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) {
    return Denied(scope.caller, stmt.compact ? "compact tables" : "flush tables");
  }
  auto state = catalog_.snapshot();
  auto table = auth::LookupTable(*state, stmt.table.ns, stmt.table.name, scope.default_namespace);
  if (!table.ok()) return table.status();
  if ((*table)->type == catalog::TableType::kStream) {
    return Status(Code::kInvalidSql, "STREAM tables are never flushed");
  }
  return StartFlushJobs(scope, {*table}, stmt.compact);
}

Result<StatementResult> Executor::Run(const Scope& scope, const FlushAllTables& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "flush tables");
  auto state = catalog_.snapshot();
  if (stmt.ns && !state->namespaces.contains(*stmt.ns)) {
    return Status(Code::kNotFound, "Namespace '" + *stmt.ns + "' does not exist");
  }
  std::vector<const catalog::TableDef*> tables;
  for (const auto& [id, t] : state->tables) {
    if (t.type == catalog::TableType::kStream) continue;
    if (stmt.ns && t.ns != *stmt.ns) continue;
    tables.push_back(&t);
  }
  return StartFlushJobs(scope, tables, false);
}

// One job per table; the answer lists (job_id, table_name). A table that can't be flushed
// now fails a single-table statement; FLUSH ALL TABLES goes on with the others.
Result<StatementResult> Executor::StartFlushJobs(const Scope& scope,
                                                 const std::vector<const catalog::TableDef*>& tables,
                                                 bool compact) {
  std::string values;
  for (const auto* t : tables) {
    const std::string id = t->id();
    if (Status can = engine_.CanFlush(id); !can.ok()) {
      if (tables.size() == 1) return can;
      continue;
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

// A backup job: the store's checkpoint and the cold files with flushes and compactions
// held off, so both describe one moment; writes go on meanwhile.
Result<StatementResult> Executor::Run(const Scope& scope, const BackupDatabaseTo& stmt) {
  if (scope.caller.role < auth::Role::kDba) return Denied(scope.caller, "back up the database");
  auto path = jobs::AllowedBackupPath(stmt.path, config_.BackupDirectories());
  if (!path.ok()) return path.status();
  auto job = jobs_.Submit("backup", "", "", "{\"path\":" + JsonString(*path) + "}",
                          [this, target = *path](const jobs::JobContext& job) {
                            return engine_.WithoutBackgroundWork([&]() -> Result<std::string> {
                              return jobs::BackupDatabase(store_, *catalog_.snapshot(),
                                                          config_.storage.data_path, target,
                                                          committer_.last_seq(),
                                                          [&job] { return job.cancelled(); });
                            });
                          });
  if (!job.ok()) return job.status();
  return Query(scope, "SELECT * FROM (VALUES ('" + *job + "', " + SqlString(*path) + ")) AS jobs(job_id, path)");
}

// Checked now, applied at the next start (the running server keeps its data until then).
Result<StatementResult> Executor::Run(const Scope& scope, const RestoreDatabaseFrom& stmt) {
  if (scope.caller.role < auth::Role::kDba) return Denied(scope.caller, "restore the database");
  auto path = jobs::AllowedBackupPath(stmt.path, config_.BackupDirectories());
  if (!path.ok()) return path.status();
  KALAM_RETURN_IF_ERROR(jobs::StageRestore(*path, config_.storage.data_path));
  return Done("Restore of '" + *path + "' staged: it replaces the data at the next start "
              "(the current data is kept in the data directory under replaced-<time>/)");
}

Result<StatementResult> Executor::Run(const Scope& scope, const KillJob& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "kill jobs");
  KALAM_RETURN_IF_ERROR(jobs_.Cancel(stmt.job_id));
  return Done("Job '" + stmt.job_id + "' cancelled", 1);
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

Result<StatementResult> Executor::Run(const Scope& scope, const CreateStorage& stmt) {
  if (!auth::IsAdmin(scope.caller.role)) return Denied(scope.caller, "create storages");
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

Result<StatementResult> Executor::Run(const Scope& scope, const AlterStorage& stmt) {
  if (!auth::IsAdmin(scope.caller.role)) return Denied(scope.caller, "alter storages");
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

Result<StatementResult> Executor::Run(const Scope& scope, const DropStorage& stmt) {
  if (!auth::IsAdmin(scope.caller.role)) return Denied(scope.caller, "drop storages");
  KALAM_RETURN_IF_ERROR(catalog_.DropStorage(stmt.id, stmt.if_exists));
  return Done("Storage '" + stmt.id + "' dropped");
}

}  // namespace kalam::sql
