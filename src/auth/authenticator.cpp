#include "auth/authenticator.h"

#include <openssl/sha.h>

#include "common/text.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/encoding.h"

namespace kalam::auth {
namespace {

constexpr auto kCredentialTtl = std::chrono::seconds(60);
constexpr size_t kMaxCachedCredentials = 10000;

Caller CallerOf(const catalog::User& user) { return {user.user_id, user.username, user.role}; }

Status BadCredentials() {
  return {Code::kInvalidCredentials, "Invalid username or password"};
}

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

Authenticator::Authenticator(catalog::Catalog& catalog, const Config::Auth& config,
                             std::string jwt_secret)
    : catalog_(catalog), config_(config), secret_(std::move(jwt_secret)) {}

Result<Caller> Authenticator::Authenticate(std::string_view authorization, bool from_loopback,
                                           std::optional<std::string_view> user_header) {
  if (authorization.empty()) {
    if (config_.trust_user_header && user_header && !user_header->empty()) {
      auto state = catalog_.snapshot();
      const std::string name(*user_header);
      const catalog::User* user = state->FindUser(name);
      if (user == nullptr) user = state->FindUserByName(name);
      if (user == nullptr || user->deleted()) {
        return Status(Code::kInvalidCredentials, "Unknown user in X-USER-ID");
      }
      return CallerOf(*user);
    }
    return Status(Code::kMissingAuthorization,
                  "Authorization required: use Basic credentials or a Bearer token");
  }
  if (StartsWithNoCase(authorization, "bearer ")) {
    return CheckBearer(authorization.substr(7), "access");
  }
  if (StartsWithNoCase(authorization, "basic ")) {
    auto decoded = Base64Decode(authorization.substr(6));
    const size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Status(Code::kInvalidAuthorizationHeader,
                    "Basic credentials must be base64 of username:password");
    }
    return CheckPassword(decoded->substr(0, colon), decoded->substr(colon + 1), from_loopback);
  }
  return Status(Code::kInvalidAuthorizationHeader,
                "Authorization header must be 'Basic <credentials>' or 'Bearer <token>'");
}

const std::string& Authenticator::DummyHash() {
  std::call_once(dummy_hash_once_, [this] {
    auto hash = HashPassword("no user has this password", config_.bcrypt_cost);
    dummy_hash_ = hash.ok() ? *hash : std::string();
  });
  return dummy_hash_;
}

Result<Caller> Authenticator::CheckPassword(const std::string& username,
                                            const std::string& password, bool from_loopback) {
  auto state = catalog_.snapshot();
  const catalog::User* user = state->FindUserByName(username);
  if (user == nullptr || user->deleted()) {
    // As slow as a wrong password of a real user: the answer's time tells nobody which
    // user names exist.
    VerifyPassword(password, DummyHash());
    return BadCredentials();
  }
  if (user->password_hash.empty()) {
    // Root without a configured password: loopback and an empty password only.
    if (from_loopback && password.empty()) return CallerOf(*user);
    return BadCredentials();
  }
  const std::string key = Sha256(username + ":" + password);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > now && it->second.user_id == user->user_id &&
        it->second.password_hash == user->password_hash) {
      return CallerOf(*user);
    }
  }
  if (!VerifyPassword(password, user->password_hash)) return BadCredentials();
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= kMaxCachedCredentials) cache_.clear();
  cache_[key] = {user->user_id, user->password_hash, now + kCredentialTtl};
  return CallerOf(*user);
}

Result<Caller> Authenticator::CheckBearer(std::string_view token, const char* want_typ) {
  auto claims = VerifyToken(token, secret_, NowSeconds());
  if (!claims.ok()) return claims.status();
  if (claims->typ != want_typ) {
    return Status(Code::kInvalidToken, std::string("Expected an ") + want_typ + " token");
  }
  // The token names the user; the catalog says whether they still exist and their role now.
  auto state = catalog_.snapshot();
  const catalog::User* user = state->FindUser(claims->sub);
  if (user == nullptr || user->deleted()) {
    return Status(Code::kInvalidToken, "The token's user no longer exists");
  }
  return CallerOf(*user);
}

TokenPair Authenticator::Issue(const Caller& caller) const {
  const int64_t now = NowSeconds();
  TokenClaims claims{caller.user_id, caller.username, std::string(RoleName(caller.role)),
                     "access", now, now + config_.access_token_ttl_secs};
  TokenPair pair;
  pair.access_token = SignToken(claims, secret_);
  claims.typ = "refresh";
  claims.exp = now + config_.refresh_token_ttl_secs;
  pair.refresh_token = SignToken(claims, secret_);
  pair.expires_in = config_.access_token_ttl_secs;
  pair.user = caller;
  return pair;
}

Result<TokenPair> Authenticator::Login(const std::string& username, const std::string& password,
                                       bool from_loopback) {
  auto caller = CheckPassword(username, password, from_loopback);
  if (!caller.ok()) return caller.status();
  auto state = catalog_.snapshot();
  if (const catalog::User* user = state->FindUser(caller->user_id)) {
    catalog::User seen = *user;
    seen.last_seen = NowMicros();
    KALAM_RETURN_IF_ERROR(catalog_.UpdateUser(seen));
  }
  return Issue(*caller);
}

Result<TokenPair> Authenticator::Refresh(std::string_view refresh_token) {
  auto caller = CheckBearer(refresh_token, "refresh");
  if (!caller.ok()) return caller.status();
  return Issue(*caller);
}

Status Authenticator::ApplyRootPassword(const std::string& password) {
  if (password.empty()) return Status::Ok();
  KALAM_RETURN_IF_ERROR(ValidatePassword(password, static_cast<size_t>(config_.password_min_length)));
  auto state = catalog_.snapshot();
  const catalog::User* root = state->FindUser("root");
  if (root == nullptr) return {Code::kInternalError, "The root user is missing"};
  if (!root->password_hash.empty() && VerifyPassword(password, root->password_hash)) {
    return Status::Ok();
  }
  auto hash = HashPassword(password, config_.bcrypt_cost);
  if (!hash.ok()) return hash.status();
  catalog::User updated = *root;
  updated.password_hash = *hash;
  updated.updated_at = NowMicros();
  return catalog_.UpdateUser(updated);
}

}  // namespace kalam::auth
