// SCRAM-SHA-256 (RFC 5802, RFC 7677) as a server speaks it to Postgres clients, without
// channel binding. A user's verifier is derived whenever a password is set and stored
// beside the bcrypt hash, in PostgreSQL's text form:
//
//   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>   (base64 fields)
//
// From it the server checks a client's proof and proves itself, never seeing the password.
// Passwords are used as their UTF-8 bytes (no SASLprep): the same for ASCII passwords; a
// non-ASCII password that SASLprep would change must be typed the same way it was set.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::auth {

inline constexpr int kScramIterations = 4096;  // PostgreSQL's default

struct ScramVerifier {
  int iterations = kScramIterations;
  std::string salt;        // raw bytes
  std::string stored_key;  // H(HMAC(SaltedPassword, "Client Key"))
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")
};

// A new verifier for password, with a random salt, in the stored text form.
std::string MakeScramVerifier(std::string_view password);
// The stored text form read back; nullopt when it is not one.
std::optional<ScramVerifier> ParseScramVerifier(std::string_view text);
// A verifier no password matches, the same for the same name: what an unknown user is
// challenged with, so the exchange does not tell which names exist.
ScramVerifier MockScramVerifier(std::string_view username, std::string_view server_secret);

// One server-side exchange: client-first → server-first, client-final → server-final.
class ScramExchange {
 public:
  explicit ScramExchange(ScramVerifier verifier) : verifier_(std::move(verifier)) {}

  // The server-first message for the client's first message. PROTOCOL on a malformed
  // message or a channel binding this server does not offer.
  Result<std::string> Start(std::string_view client_first);
  // Checks the client's proof. The server-final message ("v=...") when it is right;
  // INVALID_CREDENTIALS when wrong, PROTOCOL when malformed.
  Result<std::string> Finish(std::string_view client_final);

 private:
  ScramVerifier verifier_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;  // the client's nonce and ours
};

}  // namespace kalam::auth
