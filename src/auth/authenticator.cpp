#include "auth/authenticator.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/refresh_families.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/text.h"

namespace kalam::auth {
namespace {

constexpr auto kCredentialTtl = std::chrono::seconds(60);
constexpr size_t kMaxCachedCredentials = 10000;
constexpr size_t kFamilyIdBytes = 8;
constexpr size_t kTokenIdBytes = 16;

Caller CallerOf(const catalog::User& user) {
  return {user.user_id, user.username, user.role, user.token_version};
}

Status BadCredentials() { return {Code::kInvalidCredentials, "Invalid username or password"}; }

Status Revoked() {
  return {Code::kInvalidToken,
          "The token was revoked (the user's password or role changed, or a refresh token "
          "was used twice): sign in again"};
}

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// "username:password" from "Basic <base64>"; nullopt when it is not Basic or not well formed.
std::optional<std::string> BasicCredentials(std::string_view authorization) {
  if (!StartsWithNoCase(authorization, "basic ")) return std::nullopt;
  auto decoded = Base64Decode(authorization.substr(6));
  if (!decoded || decoded->find(':') == std::string::npos) return std::nullopt;
  return decoded;
}

}  // namespace

Authenticator::Authenticator(catalog::Catalog& catalog, const Config::Auth& config,
                             std::string jwt_secret)
    : catalog_(catalog), config_(config), secret_(std::move(jwt_secret)), throttle_(config) {}

Result<Caller> Authenticator::Authenticate(std::string_view authorization, const Peer& peer,
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
    const std::optional<std::string> credentials = BasicCredentials(authorization);
    if (!credentials) {
      return Status(Code::kInvalidAuthorizationHeader,
                    "Basic credentials must be base64 of username:password");
    }
    const size_t colon = credentials->find(':');
    return CheckPassword(credentials->substr(0, colon), credentials->substr(colon + 1), peer);
  }
  return Status(Code::kInvalidAuthorizationHeader,
                "Authorization header must be 'Basic <credentials>' or 'Bearer <token>'");
}

bool Authenticator::NeedsPasswordCheck(std::string_view authorization) {
  const std::optional<std::string> credentials = BasicCredentials(authorization);
  if (!credentials) return false;
  const std::string key = Sha256(*credentials);
  std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(key);
  return it == cache_.end() || it->second.expires <= std::chrono::steady_clock::now();
}

const std::string& Authenticator::DummyHash() {
  std::call_once(dummy_hash_once_, [this] {
    auto hash = HashPassword("no user has this password", config_.bcrypt_cost);
    dummy_hash_ = hash.ok() ? *hash : std::string();
  });
  return dummy_hash_;
}

Result<Caller> Authenticator::CheckPassword(const std::string& username,
                                            const std::string& password, const Peer& peer) {
  KALAM_RETURN_IF_ERROR(throttle_.Check(username, peer, ThrottleClock::now()));
  Result<Caller> checked = Verify(username, password, peer);
  if (checked.ok()) {
    throttle_.Succeeded(username);
  } else if (checked.status().code() == Code::kInvalidCredentials) {
    throttle_.Failed(username, peer, ThrottleClock::now());
  }
  return checked;
}

Result<Caller> Authenticator::Verify(const std::string& username, const std::string& password,
                                     const Peer& peer) {
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
    if (peer.loopback && password.empty()) return CallerOf(*user);
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
  if (user->scram_verifier.empty()) KeepScramVerifier(*user, password);
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
  // The token names the user; the catalog says whether they still exist, whether the token
  // is still theirs, and their role now.
  auto state = catalog_.snapshot();
  const catalog::User* user = state->FindUser(claims->sub);
  if (user == nullptr || user->deleted()) {
    return Status(Code::kInvalidToken, "The token's user no longer exists");
  }
  if (claims->ver != user->token_version) return Revoked();
  return CallerOf(*user);
}

TokenPair Authenticator::Sign(const Caller& caller, const std::string& family,
                              const std::string& jti, int64_t now) const {
  TokenClaims claims{.sub = caller.user_id,
                     .username = caller.username,
                     .role = std::string(RoleName(caller.role)),
                     .typ = "access",
                     .iat = now,
                     .exp = now + config_.access_token_ttl_secs,
                     .ver = caller.token_version,
                     .jti = {},
                     .fam = {}};
  TokenPair pair;
  pair.access_token = SignToken(claims, secret_);
  claims.typ = "refresh";
  claims.exp = now + config_.refresh_token_ttl_secs;
  claims.jti = jti;
  claims.fam = family;
  pair.refresh_token = SignToken(claims, secret_);
  pair.expires_in = config_.access_token_ttl_secs;
  pair.user = caller;
  return pair;
}

Result<Caller> Authenticator::SignIn(const std::string& username, const std::string& password,
                                     const Peer& peer) {
  auto caller = CheckPassword(username, password, peer);
  if (!caller.ok()) return caller;
  KALAM_RETURN_IF_ERROR(catalog_.ModifyUser(caller->user_id, [](catalog::User& user) {
    if (user.deleted()) return false;
    user.last_seen = NowMicros();
    return true;
  }));
  return caller;
}

void Authenticator::KeepScramVerifier(const catalog::User& user, const std::string& password) {
  const std::string verifier = MakeScramVerifier(password);
  const std::string hash = user.password_hash;
  // Only for the password just checked: a change meanwhile brought its own verifier.
  const Status kept = catalog_.ModifyUser(user.user_id, [&](catalog::User& u) {
    if (u.password_hash != hash || !u.scram_verifier.empty()) return false;
    u.scram_verifier = verifier;
    return true;
  });
  if (!kept.ok()) spdlog::warn("could not store the SCRAM verifier of '{}': {}", user.username, kept.message());
}

Result<Authenticator::PostgresSignIn> Authenticator::StartPostgresSignIn(const std::string& username,
                                                                         const Peer& peer) {
  KALAM_RETURN_IF_ERROR(throttle_.Check(username, peer, ThrottleClock::now()));
  auto state = catalog_.snapshot();
  const catalog::User* user = state->FindUserByName(username);
  PostgresSignIn sign_in;
  if (user == nullptr || user->deleted()) {
    sign_in.verifier = MockScramVerifier(username, secret_);
    return sign_in;
  }
  if (user->password_hash.empty()) {
    if (peer.loopback) {
      sign_in.method = PostgresMethod::kNoPassword;
    } else {
      sign_in.verifier = MockScramVerifier(username, secret_);  // no password matches
    }
    return sign_in;
  }
  std::optional<ScramVerifier> verifier = ParseScramVerifier(user->scram_verifier);
  if (!verifier) {
    sign_in.method = PostgresMethod::kCleartext;
    return sign_in;
  }
  sign_in.verifier = std::move(*verifier);
  return sign_in;
}

Result<Caller> Authenticator::FinishScramSignIn(const std::string& username, const Peer& peer, bool proof_ok) {
  auto state = catalog_.snapshot();
  const catalog::User* user = state->FindUserByName(username);
  if (!proof_ok || user == nullptr || user->deleted()) {
    throttle_.Failed(username, peer, ThrottleClock::now());
    return BadCredentials();
  }
  throttle_.Succeeded(username);
  KALAM_RETURN_IF_ERROR(catalog_.ModifyUser(user->user_id, [](catalog::User& u) {
    if (u.deleted()) return false;
    u.last_seen = NowMicros();
    return true;
  }));
  return CallerOf(*user);
}

Result<TokenPair> Authenticator::IssueTokens(const Caller& caller) {
  const int64_t now = NowSeconds();
  const std::string family = RandomHex(kFamilyIdBytes);
  const std::string jti = RandomHex(kTokenIdBytes);
  std::optional<Caller> current;
  KALAM_RETURN_IF_ERROR(catalog_.ModifyUser(caller.user_id, [&](catalog::User& user) {
    if (user.deleted() || user.token_version != caller.token_version) return false;
    OpenFamily(user, family, jti, now, now + config_.refresh_token_ttl_secs);
    current = CallerOf(user);
    return true;
  }));
  if (!current) {
    return Status(Code::kInvalidCredentials,
                  "The user's credentials changed while signing in: sign in again");
  }
  return Sign(*current, family, jti, now);
}

Result<TokenPair> Authenticator::Refresh(std::string_view refresh_token) {
  const int64_t now = NowSeconds();
  auto claims = VerifyToken(refresh_token, secret_, now);
  if (!claims.ok()) return claims.status();
  if (claims->typ != "refresh") return Status(Code::kInvalidToken, "Expected a refresh token");
  if (claims->jti.empty() || claims->fam.empty()) {
    return Status(Code::kInvalidToken, "The refresh token has no id: sign in again");
  }
  const std::string next_jti = RandomHex(kTokenIdBytes);
  Status refused;
  Caller current;
  const Status written = catalog_.ModifyUser(claims->sub, [&](catalog::User& user) {
    if (user.deleted()) {
      refused = {Code::kInvalidToken, "The token's user no longer exists"};
      return false;
    }
    if (user.token_version != claims->ver) {
      refused = Revoked();
      return false;
    }
    switch (Rotate(user, claims->fam, claims->jti, next_jti, now,
                   now + config_.refresh_token_ttl_secs)) {
      case Rotation::kRotated:
        current = CallerOf(user);
        return true;
      case Rotation::kUnknown:
        refused = {Code::kInvalidToken, "The refresh token's session has ended: sign in again"};
        return false;
      case Rotation::kReused:
        refused = {Code::kInvalidToken,
                   "The refresh token was used before: every token of the user is revoked; "
                   "sign in again"};
        return true;  // stores the revocation
    }
    return false;
  });
  if (written.code() == Code::kNotFound) {
    return Status(Code::kInvalidToken, "The token's user no longer exists");
  }
  KALAM_RETURN_IF_ERROR(written);
  KALAM_RETURN_IF_ERROR(refused);
  return Sign(current, claims->fam, next_jti, now);
}

std::string Authenticator::ClusterToken(const std::string& node_id) const {
  TokenClaims claims;
  claims.sub = node_id;
  claims.username = node_id;
  claims.role = "system";
  claims.typ = "cluster";
  claims.iat = NowSeconds();
  claims.exp = claims.iat + 60;
  return SignToken(claims, secret_);
}

Status Authenticator::CheckClusterToken(std::string_view authorization) const {
  if (!StartsWithNoCase(authorization, "bearer ")) return {Code::kInvalidToken, "Expected a cluster token"};
  auto claims = VerifyToken(authorization.substr(7), secret_, NowSeconds());
  if (!claims.ok()) return claims.status();
  if (claims->typ != "cluster") return {Code::kInvalidToken, "Expected a cluster token"};
  return Status::Ok();
}

Result<Caller> Authenticator::ActingAs(std::string_view authorization, std::string_view user_id) const {
  KALAM_RETURN_IF_ERROR(CheckClusterToken(authorization));
  auto state = catalog_.snapshot();
  const catalog::User* user = state->FindUser(std::string(user_id));
  if (user == nullptr || user->deleted()) return Status(Code::kInvalidToken, "The user sent on for no longer exists");
  return CallerOf(*user);
}

Status Authenticator::ApplyRootPassword(const std::string& password) {
  if (password.empty()) return Status::Ok();
  KALAM_RETURN_IF_ERROR(
      ValidatePassword(password, static_cast<size_t>(config_.password_min_length)));
  auto state = catalog_.snapshot();
  const catalog::User* root = state->FindUser("root");
  if (root == nullptr) return {Code::kInternalError, "The root user is missing"};
  if (!root->password_hash.empty() && VerifyPassword(password, root->password_hash)) {
    if (root->scram_verifier.empty()) KeepScramVerifier(*root, password);
    return Status::Ok();
  }
  auto hash = HashPassword(password, config_.bcrypt_cost);
  if (!hash.ok()) return hash.status();
  const std::string verifier = MakeScramVerifier(password);
  return catalog_.ModifyUser("root", [&](catalog::User& user) {
    user.password_hash = *hash;
    user.scram_verifier = verifier;
    user.updated_at = NowMicros();
    return true;
  });
}

}  // namespace kalam::auth
