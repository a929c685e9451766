// Internal to src/cli: a JSON value of the server's answers as a display value. Used by
// the decoders of SQL replies and live-query messages.
#pragma once

#include <boost/json/fwd.hpp>

#include "cli/sql_reply.h"

namespace kalam::cli {

// Numbers keep all their digits, strings lose their quotes, arrays and objects become
// compact JSON text, null is NULL.
Value DecodeValue(const boost::json::value& v);

}  // namespace kalam::cli
