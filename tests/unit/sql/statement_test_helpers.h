// Helpers shared by the unit tests of KalamDB's own statements.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "sql/kalam_statement.h"

namespace kalam::sql::testing {

// The statement sql parses to; nullopt (and a test failure) when it is not a T.
template <typename T>
std::optional<T> ParseAs(std::string_view sql) {
  Result<std::optional<KalamStatement>> parsed = ParseKalamStatement(sql);
  if (!parsed.ok()) {
    ADD_FAILURE() << sql << ": " << parsed.status().message();
    return std::nullopt;
  }
  if (!parsed->has_value() || !std::holds_alternative<T>(**parsed)) {
    ADD_FAILURE() << sql << ": not parsed to the expected statement";
    return std::nullopt;
  }
  return std::get<T>(**parsed);
}

// The INVALID_SQL message; a test failure when sql parses or fails otherwise.
inline std::string ErrorOf(std::string_view sql) {
  Result<std::optional<KalamStatement>> parsed = ParseKalamStatement(sql);
  if (parsed.ok()) {
    ADD_FAILURE() << sql << ": parsed without error";
    return "";
  }
  EXPECT_EQ(parsed.status().code(), Code::kInvalidSql) << sql;
  return parsed.status().message();
}

inline bool IsForTheEngine(std::string_view sql) {
  Result<std::optional<KalamStatement>> parsed = ParseKalamStatement(sql);
  return parsed.ok() && !parsed->has_value();
}

}  // namespace kalam::sql::testing
