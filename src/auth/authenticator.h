// Who is calling: Basic and Bearer authentication, login and token refresh.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/caller.h"
#include "common/config.h"
#include "common/status.h"

namespace kalam::catalog {
class Catalog;
}

namespace kalam::auth {

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  int64_t expires_in = 0;  // seconds the access token lives
  Caller user;
};

class Authenticator {
 public:
  Authenticator(catalog::Catalog& catalog, const Config::Auth& config, std::string jwt_secret);

  // authorization: the Authorization header ("" when absent). user_header: X-USER-ID,
  // honoured only when auth.trust_user_header is on. from_loopback: the peer is 127.0.0.1
  // or ::1 (root without a password may log in only from there).
  Result<Caller> Authenticate(std::string_view authorization, bool from_loopback,
                              std::optional<std::string_view> user_header);

  Result<TokenPair> Login(const std::string& username, const std::string& password,
                          bool from_loopback);
  Result<TokenPair> Refresh(std::string_view refresh_token);

  // Sets root's password from the configuration when one is given and differs.
  Status ApplyRootPassword(const std::string& password);

 private:
  Result<Caller> CheckPassword(const std::string& username, const std::string& password,
                               bool from_loopback);
  Result<Caller> CheckBearer(std::string_view token, const char* want_typ);
  TokenPair Issue(const Caller& caller) const;
  // A hash of the configured cost that no password matches, made on first use.
  const std::string& DummyHash();

  catalog::Catalog& catalog_;
  Config::Auth config_;
  std::string secret_;

  // Verified Basic credentials, so bcrypt runs once per credential and TTL rather than
  // per request. Keyed by SHA-256 of "username:password"; an entry holds the password
  // hash it was verified against, so a password change invalidates it at once.
  struct CachedCredential {
    std::string user_id;
    std::string password_hash;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex cache_mutex_;
  std::unordered_map<std::string, CachedCredential> cache_;
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;
};

}  // namespace kalam::auth
