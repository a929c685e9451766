// Positional parameters ($1..$n) of POST /v1/api/sql, and their binding into a statement.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace kalam::sql {

// SQL text standing for a parameter as is, already checked by whoever made it: the
// Postgres wire door's typed values (CAST('...' AS TIMESTAMP), a BLOB literal, a DECIMAL).
struct SqlLiteral {
  std::string text;
};

// A JSON scalar from the request's "params" (null, bool, integer, float or string), or a
// literal made by the Postgres wire door.
using ParamValue = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, SqlLiteral>;

// Replaces every $n outside string literals, quoted identifiers and comments by the SQL
// literal of params[n-1] (strings quoted with '' doubling; NaN/Inf refused).
// INVALID_PARAMETER when a $n has no value ($0, $n past the end), and when a parameter
// is never used — a typo in the SQL should not silently drop a value.
Result<std::string> BindParams(std::string_view statement, const std::vector<ParamValue>& params);

// The highest n of the $n in statement (outside literals, quoted identifiers and
// comments); 0 when it has none.
size_t HighestParam(std::string_view statement);

}  // namespace kalam::sql
