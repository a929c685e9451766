// The JSON bodies of requests: parsed, and their fields read, with INVALID_INPUT naming
// what is wrong. Internal to server/.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "server/routes.h"

namespace kalam::server {

// The body as a JSON object.
Result<boost::json::object> ParseBody(const Request& request);

// A string field; "" when absent or null and not required.
Result<std::string> StringField(const boost::json::object& body, const char* name, bool required);

// An integer field within [minimum, maximum]; nullopt when absent or null.
Result<std::optional<int64_t>> IntegerField(const boost::json::object& body, const char* name,
                                            int64_t minimum, int64_t maximum);

}  // namespace kalam::server
