// KalamDB's own statements (those DuckDB's parser does not know): their syntax tree and
// their parser. Everything else (SELECT, INSERT, ...) goes to DuckDB's parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace kalam::sql {

struct CreateNamespace {
  std::string name;  // folded to lower case unless quoted; not yet validated
  bool if_not_exists = false;
};
struct DropNamespace {
  std::string name;
  bool if_exists = false;
  bool cascade = false;
};
struct AlterNamespace {
  std::string name;
  // key (lower case) -> value as JSON text: "'x'" becomes "\"x\"", 42 stays 42,
  // TRUE becomes true, NULL becomes null.
  std::vector<std::pair<std::string, std::string>> options;
};
struct ShowNamespaces {};
struct ShowStorages {};

struct CreateUser {
  std::string username;  // as written in quotes, case kept
  std::string password;
  std::string role;      // lower case; not yet validated
  std::optional<std::string> email;
  bool if_not_exists = false;
};
struct AlterUser {
  enum class Field { kPassword, kRole, kEmail };
  std::string username;
  Field field = Field::kPassword;
  std::string value;  // role lower-cased
};
struct DropUser {
  std::string username;
  bool if_exists = false;
};

using KalamStatement = std::variant<CreateNamespace, DropNamespace, AlterNamespace,
                                    ShowNamespaces, ShowStorages, CreateUser, AlterUser,
                                    DropUser>;

// nullopt: the statement is not one of these (by its leading keywords) and belongs to
// the query engine. An error: it is one of these but malformed (INVALID_SQL naming what is
// wrong, e.g. "Expected ROLE after the password in CREATE USER").
Result<std::optional<KalamStatement>> ParseKalamStatement(std::string_view sql);

}  // namespace kalam::sql
