// The column types of CREATE TABLE, shared by the catalog (schemas) and the store (rows).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kalam {

enum class ColumnType : uint8_t {
  kBoolean, kSmallInt, kInt, kBigInt, kFloat, kDouble, kDecimal, kText, kBytes, kJson,
  kTimestamp, kDate, kTime, kUuid
};

// "BOOLEAN", ... as in CREATE TABLE (DECIMAL without its precision).
std::string_view ColumnTypeSqlName(ColumnType type);
std::optional<ColumnType> ParseColumnType(std::string_view canonical_name);

}  // namespace kalam
