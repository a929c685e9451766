// CREATE / DROP / ALTER NAMESPACE (also SCHEMA), SHOW NAMESPACES.
#include "sql/statement_parser.h"

namespace kalam::sql {

Result<KalamStatement> StatementParser::ParseCreateNamespace() {
  CreateNamespace create;
  KALAM_RETURN_IF_ERROR(AcceptIfNotExists(create.if_not_exists));
  Result<std::string> name =
      Identifier("a namespace name", After(create.if_not_exists ? "IF NOT EXISTS" : ""));
  if (!name.ok()) return name.status();
  create.name = std::move(*name);
  return KalamStatement(std::move(create));
}

Result<KalamStatement> StatementParser::ParseDropNamespace() {
  DropNamespace drop;
  drop.if_exists = AcceptIfExists();
  Result<std::string> name =
      Identifier("a namespace name", After(drop.if_exists ? "IF EXISTS" : ""));
  if (!name.ok()) return name.status();
  drop.name = std::move(*name);
  drop.cascade = Accept("CASCADE");
  return KalamStatement(std::move(drop));
}

Result<KalamStatement> StatementParser::ParseAlterNamespace() {
  AlterNamespace alter;
  Result<std::string> name = Identifier("a namespace name", After(""));
  if (!name.ok()) return name.status();
  alter.name = std::move(*name);
  KALAM_RETURN_IF_ERROR(Expect("SET", After("the namespace name")));
  KALAM_RETURN_IF_ERROR(Expect("OPTIONS", After("SET")));
  KALAM_RETURN_IF_ERROR(OptionList("SET OPTIONS", [&](std::string key, const std::string& option) {
    if (std::any_of(alter.options.begin(), alter.options.end(),
                    [&](const auto& kv) { return kv.first == key; })) {
      return Status(Code::kInvalidSql,
                    fmt::format("The {} is given twice in {}", option, statement_));
    }
    Result<std::string> value = OptionValue(option);
    if (!value.ok()) return value.status();
    alter.options.emplace_back(std::move(key), std::move(*value));
    return Status::Ok();
  }));
  return KalamStatement(std::move(alter));
}

}  // namespace kalam::sql
