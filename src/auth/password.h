// Password hashing with bcrypt ($2b$) through libcrypt.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::auth {

// Passwords are min_length to 72 bytes (bcrypt reads no further), not all whitespace and
// none of the most common passwords (whatever their case). INVALID_SQL otherwise (the
// password comes from a statement), with a message that says why.
Status ValidatePassword(std::string_view password, size_t min_length = 8);

// A "$2b$<cost>$..." hash with a fresh random salt. cost is 4..31.
Result<std::string> HashPassword(std::string_view password, int cost);

// True when password matches hash. Constant-time comparison; false on a malformed hash.
bool VerifyPassword(std::string_view password, const std::string& hash);

}  // namespace kalam::auth
