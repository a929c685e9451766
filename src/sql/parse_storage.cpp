// CREATE / ALTER / DROP STORAGE (SHOW STORAGES is in the header).
#include "sql/statement_parser.h"

#include <algorithm>

namespace kalam::sql {

Result<KalamStatement> StatementParser::ParseCreateStorage() {
  CreateStorage create;
  KALAM_RETURN_IF_ERROR(AcceptIfNotExists(create.if_not_exists));
  Result<std::string> id =
      Identifier("a storage id", After(create.if_not_exists ? "IF NOT EXISTS" : ""));
  if (!id.ok()) return id.status();
  create.id = std::move(*id);
  std::vector<std::string> seen;
  std::string last = "the storage id";
  while (!AtEnd()) {
    const std::string clause = Upper(Peek().text);
    std::string* target = clause == "TYPE"             ? &create.type
                          : clause == "NAME"           ? &create.name
                          : clause == "DESCRIPTION"    ? &create.description
                          : clause == "BASE_DIRECTORY" ? &create.base_directory
                                                       : nullptr;
    std::optional<std::string>* optional_target =
        clause == "SHARED_TABLES_TEMPLATE" ? &create.shared_tables_template
        : clause == "USER_TABLES_TEMPLATE" ? &create.user_tables_template
                                           : nullptr;
    if (Peek().kind != TokenKind::kWord || (target == nullptr && optional_target == nullptr)) {
      return Fail(
          "TYPE, NAME, DESCRIPTION, BASE_DIRECTORY, SHARED_TABLES_TEMPLATE or "
          "USER_TABLES_TEMPLATE",
          After(last));
    }
    if (std::find(seen.begin(), seen.end(), clause) != seen.end()) {
      return Status(Code::kInvalidSql, fmt::format("{} is given twice in {}", clause, statement_));
    }
    seen.push_back(clause);
    Take();
    Result<std::string> value = String(Lower(clause), After(clause));
    if (!value.ok()) return value.status();
    if (target != nullptr) {
      *target = std::move(*value);
    } else {
      *optional_target = std::move(*value);
    }
    last = "the " + clause + " clause";
  }
  for (const char* required : {"TYPE", "NAME", "BASE_DIRECTORY"}) {
    if (std::find(seen.begin(), seen.end(), required) == seen.end()) {
      return Fail(required, After(last));
    }
  }
  return KalamStatement(std::move(create));
}

Result<KalamStatement> StatementParser::ParseAlterStorage() {
  AlterStorage alter;
  Result<std::string> id = Identifier("a storage id", After(""));
  if (!id.ok()) return id.status();
  alter.id = std::move(*id);
  KALAM_RETURN_IF_ERROR(Expect("SET", After("the storage id")));
  for (const char* field : {"NAME", "DESCRIPTION", "SHARED_TABLES_TEMPLATE", "USER_TABLES_TEMPLATE"}) {
    if (Accept(field)) {
      alter.field = Lower(field);
      break;
    }
  }
  if (alter.field.empty()) {
    return Fail("NAME, DESCRIPTION, SHARED_TABLES_TEMPLATE or USER_TABLES_TEMPLATE", After("SET"));
  }
  const std::string clause = Upper(alter.field);
  Result<std::string> value = String(alter.field, After(clause));
  if (!value.ok()) return value.status();
  alter.value = std::move(*value);
  return KalamStatement(std::move(alter));
}

Result<KalamStatement> StatementParser::ParseDropStorage() {
  DropStorage drop;
  drop.if_exists = AcceptIfExists();
  Result<std::string> id = Identifier("a storage id", After(drop.if_exists ? "IF EXISTS" : ""));
  if (!id.ok()) return id.status();
  drop.id = std::move(*id);
  return KalamStatement(std::move(drop));
}

}  // namespace kalam::sql
