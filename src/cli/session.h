// A connection to one server with one way of authenticating: Basic credentials, a token,
// or the stored `\login` for that server (refreshed when its access token expires).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/credential_store.h"
#include "cli/sql_reply.h"
#include "client/http_client.h"
#include "common/status.h"

namespace kalam::cli {

struct ServerAddress {
  std::string host;
  uint16_t port = 0;
  std::string url;  // normalized: "http://host:port"
};

// "http://host[:port][/]", or "host[:port]". Port 80 when the URL names none.
// INVALID_INPUT for anything else (https is not supported yet).
Result<ServerAddress> ParseServerUrl(std::string_view url);

struct Credentials {
  std::string username;  // Basic (with password), or who a token belongs to
  std::string password;
  std::string access_token;  // when set: Bearer
  std::string refresh_token;
  bool stored = false;  // from ~/.kalam/credentials: refreshed tokens are stored back
};

// What the server says about the caller, or why it refused.
struct Identity {
  std::optional<ServerError> error;
  std::string username;
  std::string role;
};

// GET /v1/api/healthcheck.
struct Health {
  std::string status;
  std::string version;
  std::string api_version;
};

class Session {
 public:
  Session(ServerAddress address, Credentials credentials, CredentialStore store);

  // The methods answer an error Status only when the server can't be reached (or answers
  // something other than the API); the server's own errors are part of their values.
  Result<SqlReply> Execute(std::string_view sql);
  Result<Health> CheckHealth();
  Result<Identity> WhoAmI();
  // POST /v1/api/auth/login. On success the session uses the new tokens from then on.
  Result<Identity> Login(const std::string& username, const std::string& password);
  // Keeps the session's tokens for this server in ~/.kalam/credentials, so that later runs
  // of `kalam` without credentials use them.
  Status StoreLogin();

  // The Authorization header's value for the credentials ("" when there are none).
  std::string Authorization() const;

  const ServerAddress& address() const { return address_; }
  const Credentials& credentials() const { return credentials_; }
  const CredentialStore& store() const { return store_; }

 private:
  // Sends with the session's authorization; an expired stored token is refreshed once.
  Result<client::HttpResponse> Send(std::string_view method, std::string_view target,
                                    std::string_view body);
  bool Refresh();
  Status Unreachable(const Status& cause) const;

  ServerAddress address_;
  Credentials credentials_;
  CredentialStore store_;
  client::HttpClient http_;
};

}  // namespace kalam::cli
