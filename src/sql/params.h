// Positional parameters ($1..$n) of POST /v1/api/sql, and their binding into a statement.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace kalam::sql {

// A JSON scalar from the request's "params": null, bool, integer, float or string.
using ParamValue = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string>;

// Replaces every $n outside string literals, quoted identifiers and comments by the SQL
// literal of params[n-1] (strings quoted with '' doubling; NaN/Inf refused).
// INVALID_PARAMETER when a $n has no value ($0, $n past the end), and when a parameter
// is never used — a typo in the SQL should not silently drop a value.
Result<std::string> BindParams(std::string_view statement, const std::vector<ParamValue>& params);

}  // namespace kalam::sql
