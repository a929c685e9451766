// FLUSH TABLE t, FLUSH ALL TABLES [IN ns], STORAGE FLUSH TABLE t, STORAGE COMPACT TABLE t,
// KILL JOB 'id', KILL QUERY 'id', BACKUP DATABASE TO 'path', RESTORE DATABASE FROM 'path'.
#include "sql/statement_parser.h"

namespace kalam::sql {

Result<KalamStatement> StatementParser::ParseFlush() {
  if (Accept("ALL")) {
    KALAM_RETURN_IF_ERROR(Expect("TABLES", After("ALL")));
    FlushAllTables flush;
    if (Accept("IN")) {
      Result<std::string> ns = Identifier("a namespace name", After("ALL TABLES IN"));
      if (!ns.ok()) return ns.status();
      flush.ns = std::move(*ns);
    }
    return KalamStatement(std::move(flush));
  }
  if (!Accept("TABLE")) return Fail("TABLE or ALL TABLES", After(""));
  Result<TableName> table = QualifiedName(After("TABLE"));
  if (!table.ok()) return table.status();
  return KalamStatement(FlushTable{std::move(*table), false});
}

Result<KalamStatement> StatementParser::ParseStorageFlush() {
  KALAM_RETURN_IF_ERROR(Expect("TABLE", After("")));
  Result<TableName> table = QualifiedName(After("TABLE"));
  if (!table.ok()) return table.status();
  return KalamStatement(FlushTable{std::move(*table), false});
}

Result<KalamStatement> StatementParser::ParseStorageCompact() {
  KALAM_RETURN_IF_ERROR(Expect("TABLE", After("")));
  Result<TableName> table = QualifiedName(After("TABLE"));
  if (!table.ok()) return table.status();
  return KalamStatement(FlushTable{std::move(*table), true});
}

Result<KalamStatement> StatementParser::ParseKillJob() {
  Result<std::string> id = String("job id", After(""));
  if (!id.ok()) return id.status();
  return KalamStatement(KillJob{std::move(*id)});
}

Result<KalamStatement> StatementParser::ParseKillQuery() {
  Result<std::string> id = String("query id", After(""));
  if (!id.ok()) return id.status();
  return KalamStatement(KillQuery{std::move(*id)});
}

Result<KalamStatement> StatementParser::ParseDrain(bool draining) {
  Result<std::string> node = String("node id", After(""));
  if (!node.ok()) return node.status();
  return KalamStatement(ClusterDrain{std::move(*node), draining});
}

Result<KalamStatement> StatementParser::ParseBackup() {
  KALAM_RETURN_IF_ERROR(Expect("TO", After("")));
  Result<std::string> path = String("backup directory", After("TO"));
  if (!path.ok()) return path.status();
  return KalamStatement(BackupDatabaseTo{std::move(*path)});
}

Result<KalamStatement> StatementParser::ParseRestore() {
  KALAM_RETURN_IF_ERROR(Expect("FROM", After("")));
  Result<std::string> path = String("backup directory", After("FROM"));
  if (!path.ok()) return path.status();
  return KalamStatement(RestoreDatabaseFrom{std::move(*path)});
}

}  // namespace kalam::sql
