// Who is calling: Basic and Bearer authentication, sign-in, tokens and their refresh.
// Checking a password runs bcrypt, slow on purpose: the server runs the calls that may check
// one (Authenticate when NeedsPasswordCheck says so, SignIn) on threads of their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/caller.h"
#include "auth/login_throttle.h"
#include "auth/scram.h"
#include "common/config.h"
#include "common/status.h"

namespace kalam::catalog {
class Catalog;
struct User;
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
  // Cluster mode: the secret every node signs with. Call before any request.
  void SetSecret(std::string jwt_secret) { secret_ = std::move(jwt_secret); }

  // authorization: the Authorization header ("" when absent). user_header: X-USER-ID,
  // honoured only when auth.trust_user_header is on. peer: root without a password may sign
  // in only from loopback, and failed sign-ins are counted per address (login_throttle.h).
  Result<Caller> Authenticate(std::string_view authorization, const Peer& peer,
                              std::optional<std::string_view> user_header);
  // Whether Authenticate would check a password for authorization: Basic credentials not
  // verified within the last minute.
  bool NeedsPasswordCheck(std::string_view authorization);

  // A sign-in with a password (the login route, the WebSocket's basic method): checks it,
  // throttled like Basic credentials, and records the user's last_seen.
  Result<Caller> SignIn(const std::string& username, const std::string& password, const Peer& peer);
  // How a Postgres-wire sign-in of username from peer goes on: SCRAM-SHA-256 against the
  // user's verifier (a mock one for a name that is no user, so the exchange tells nothing);
  // a cleartext password for a user whose password predates verifiers (checked by SignIn,
  // which then stores one); no password for a user without one (root before one is set)
  // from a loopback address. Refused at once while the name or the address is throttled.
  enum class PostgresMethod { kNoPassword, kScram, kCleartext };
  struct PostgresSignIn {
    PostgresMethod method = PostgresMethod::kScram;
    ScramVerifier verifier;
  };
  Result<PostgresSignIn> StartPostgresSignIn(const std::string& username, const Peer& peer);
  // A SCRAM exchange's outcome, counted as a sign-in: the caller (last_seen recorded), or
  // INVALID_CREDENTIALS.
  Result<Caller> FinishScramSignIn(const std::string& username, const Peer& peer, bool proof_ok);
  // Access and refresh tokens for a caller just signed in, opening a refresh family
  // (refresh_families.h). INVALID_CREDENTIALS when the user's tokens were revoked since the
  // caller's credentials were checked (a password changed meanwhile).
  Result<TokenPair> IssueTokens(const Caller& caller);
  // A new pair for the newest refresh token of its family; that token stops refreshing.
  // INVALID_TOKEN for a revoked one, and for a reused one (then every token of the user is
  // revoked).
  Result<TokenPair> Refresh(std::string_view refresh_token);

  // Sets root's password from the configuration when one is given and differs.
  Status ApplyRootPassword(const std::string& password);

  // Cluster mode: the token a node sends with its requests to another node (typ "cluster",
  // signed with the cluster's secret, valid a minute), and the check of such a request's
  // Authorization header ("Bearer <token>"): INVALID_TOKEN for anything else.
  std::string ClusterToken(const std::string& node_id) const;
  Status CheckClusterToken(std::string_view authorization) const;
  // A request another node sends on for one of its own clients (a Postgres wire session):
  // its cluster token checked, the user user_id as the catalog has them now.
  Result<Caller> ActingAs(std::string_view authorization, std::string_view user_id) const;

 private:
  // Verify, throttled: refused at once while the name or the address is, and its outcome
  // counted.
  Result<Caller> CheckPassword(const std::string& username, const std::string& password,
                               const Peer& peer);
  Result<Caller> Verify(const std::string& username, const std::string& password, const Peer& peer);
  // Stores the SCRAM verifier of a password just verified, for a user who has none.
  void KeepScramVerifier(const catalog::User& user, const std::string& password);
  Result<Caller> CheckBearer(std::string_view token, const char* want_typ);
  TokenPair Sign(const Caller& caller, const std::string& family, const std::string& jti,
                 int64_t now) const;
  // A hash of the configured cost that no password matches, made on first use.
  const std::string& DummyHash();

  catalog::Catalog& catalog_;
  Config::Auth config_;
  std::string secret_;
  LoginThrottle throttle_;

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
