// Storage statements (SPEC §3.4): CREATE / ALTER / DROP STORAGE.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"

namespace kalam::sql {

struct CreateStorage {
  std::string id;  // folded to lower case unless quoted
  bool if_not_exists = false;
  std::string type;  // as written ('filesystem' is the only one)
  std::string name;
  std::string description;
  std::string base_directory;
  std::optional<std::string> shared_tables_template;
  std::optional<std::string> user_tables_template;
};

struct AlterStorage {
  std::string id;
  std::string field;  // name | description | shared_tables_template | user_tables_template
  std::string value;
};

struct DropStorage {
  std::string id;
  bool if_exists = false;
};

using StorageStatement = std::variant<CreateStorage, AlterStorage, DropStorage>;

// nullopt: not a storage statement. INVALID_SQL naming what is wrong otherwise.
Result<std::optional<StorageStatement>> ParseStorageStatement(std::string_view sql);

}  // namespace kalam::sql
