// CREATE / ALTER / DROP USER.
#include "sql/statement_parser.h"

#include <algorithm>

namespace kalam::sql {

// The clauses after the user name come in any order; WITH may precede any of them.
Result<KalamStatement> StatementParser::ParseCreateUser() {
  CreateUser create;
  KALAM_RETURN_IF_ERROR(AcceptIfNotExists(create.if_not_exists));
  Result<std::string> name =
      Name("a user name", After(create.if_not_exists ? "IF NOT EXISTS" : ""));
  if (!name.ok()) return name.status();
  create.username = std::move(*name);

  std::string_view last = "the user name";  // the clause just read, for messages
  bool has_password = false;
  bool has_role = false;
  while (!AtEnd()) {
    const bool with = Accept("WITH");
    const Token& clause = Peek();
    if (IsKeyword(clause, "PASSWORD") || IsKeyword(clause, "ROLE") ||
        IsKeyword(clause, "EMAIL")) {
      const std::string keyword = Upper(Take().text);
      const bool repeated = keyword == "PASSWORD" ? std::exchange(has_password, true)
                            : keyword == "ROLE"   ? std::exchange(has_role, true)
                                                  : create.email.has_value();
      if (repeated) {
        return Status(Code::kInvalidSql,
                      fmt::format("{} is given twice in {}", keyword, statement_));
      }
      Result<std::string> value =
          keyword == "ROLE" ? Role(After(keyword)) : String(Lower(keyword), After(keyword));
      if (!value.ok()) return value.status();
      if (keyword == "PASSWORD") {
        create.password = std::move(*value);
        last = "the password";
      } else if (keyword == "ROLE") {
        create.role = std::move(*value);
        last = "the role";
      } else {
        create.email = std::move(*value);
        last = "the email";
      }
    } else {
      return Fail("PASSWORD, ROLE or EMAIL", After(with ? "WITH" : last));
    }
  }
  if (!has_password) return Fail("WITH PASSWORD", After(last));
  if (!has_role) return Fail("ROLE", After(last));
  return KalamStatement(std::move(create));
}

Result<KalamStatement> StatementParser::ParseAlterUser() {
  AlterUser alter;
  Result<std::string> name = Name("a user name", After(""));
  if (!name.ok()) return name.status();
  alter.username = std::move(*name);
  // WITH as in PostgreSQL's ALTER USER u WITH PASSWORD 'pw'.
  if (!PeekKeyword("SET") && !PeekKeyword("WITH")) return Fail("SET", After("the user name"));
  const std::string set = Upper(Take().text);
  const std::string clause = set + " " + Upper(Peek().text);
  if (Accept("PASSWORD")) {
    alter.field = AlterUser::Field::kPassword;
  } else if (Accept("ROLE")) {
    alter.field = AlterUser::Field::kRole;
  } else if (Accept("EMAIL")) {
    alter.field = AlterUser::Field::kEmail;
  } else {
    return Fail("PASSWORD, ROLE or EMAIL", After(set));
  }
  Result<std::string> value = alter.field == AlterUser::Field::kRole ? Role(After(clause))
                              : alter.field == AlterUser::Field::kPassword
                                  ? String("password", After(clause))
                                  : String("email", After(clause));
  if (!value.ok()) return value.status();
  alter.value = std::move(*value);
  return KalamStatement(std::move(alter));
}

Result<KalamStatement> StatementParser::ParseDropUser() {
  DropUser drop;
  drop.if_exists = AcceptIfExists();
  Result<std::string> name = Name("a user name", After(drop.if_exists ? "IF EXISTS" : ""));
  if (!name.ok()) return name.status();
  drop.username = std::move(*name);
  return KalamStatement(std::move(drop));
}

}  // namespace kalam::sql
