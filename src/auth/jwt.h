// JSON Web Tokens, HS256 only, signed with auth.jwt_secret.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::auth {

struct TokenClaims {
  std::string sub;       // user_id
  std::string username;
  std::string role;      // user | service | dba | system
  std::string typ;       // access | refresh
  int64_t iat = 0;       // seconds since the epoch
  int64_t exp = 0;
  int64_t ver = 0;       // the user's token_version when issued
  // Refresh tokens only (empty in access tokens): the token's own id and its family, the
  // session it belongs to (auth/refresh_families.h).
  std::string jti;
  std::string fam;
};

// header {"alg":"HS256","typ":"JWT"}, the claims as the payload, HMAC-SHA256 signature.
std::string SignToken(const TokenClaims& claims, std::string_view secret);

// Verifies the signature (constant time), the algorithm (only HS256; "none" is refused),
// and the expiry against now_secs. Errors: INVALID_TOKEN (malformed, bad signature,
// missing claims: every one but jti and fam is required), TOKEN_EXPIRED.
Result<TokenClaims> VerifyToken(std::string_view token, std::string_view secret,
                                int64_t now_secs);

// bytes random bytes from OpenSSL, hex encoded: token and family ids.
std::string RandomHex(size_t bytes);

// 32 random bytes, hex encoded: a fresh JWT secret.
std::string GenerateSecret();

}  // namespace kalam::auth
