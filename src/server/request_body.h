// The JSON bodies of requests: parsed, and their fields read, with INVALID_INPUT naming
// what is wrong. Internal to server/; no Beast here, so the fuzz targets read bodies too.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/params.h"

namespace kalam::server {

// The body as a JSON object.
Result<boost::json::object> ParseBody(std::string_view body);

// A string field; "" when absent or null and not required.
Result<std::string> StringField(const boost::json::object& body, const char* name, bool required);

// An integer field within [minimum, maximum]; nullopt when absent or null.
Result<std::optional<int64_t>> IntegerField(const boost::json::object& body, const char* name,
                                            int64_t minimum, int64_t maximum);

// The body of POST /v1/api/sql (docs/api.md): {"sql": "...", "params": [...],
// "namespace_id": "..."}. INVALID_INPUT for the body and its strings, INVALID_PARAMETER for
// "params" (an array of null, booleans, numbers and strings).
struct SqlBody {
  std::string sql;
  std::string namespace_id;  // "" when absent or null
  std::optional<std::vector<sql::ParamValue>> params;  // nullopt when absent or null
};
Result<SqlBody> ReadSqlBody(std::string_view body);

}  // namespace kalam::server
