#include "common/column_type.h"

#include <array>

namespace kalam {
namespace {

constexpr std::array<std::string_view, 14> kTypeNames = {
    "BOOLEAN", "SMALLINT", "INT",  "BIGINT",    "FLOAT", "DOUBLE", "DECIMAL",
    "TEXT",    "BYTES",    "JSON", "TIMESTAMP", "DATE",  "TIME",   "UUID"};

}  // namespace

std::string_view ColumnTypeSqlName(ColumnType type) {
  return kTypeNames[static_cast<size_t>(type)];
}

std::optional<ColumnType> ParseColumnType(std::string_view name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<ColumnType>(i);
  }
  return std::nullopt;
}

}  // namespace kalam
