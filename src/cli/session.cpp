#include "cli/session.h"

#include <boost/json.hpp>
#include <charconv>

#include "common/json_text.h"

namespace kalam::cli {

namespace json = boost::json;

namespace {

std::string Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<json::object> ParseObject(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

Result<ServerAddress> ParseServerUrl(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    return Status(Code::kInvalidInput, "https is not supported yet: use http://");
  }
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash).find_first_not_of('/') != std::string_view::npos) {
      return Status(Code::kInvalidInput,
                    "the URL must name a server only, without a path: " + std::string(url));
    }
    rest = rest.substr(0, slash);
  }
  ServerAddress address;
  address.port = 80;
  std::string_view host = rest;
  const size_t colon = rest.rfind(':');
  const size_t bracket = rest.rfind(']');  // [::1]:8080
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = rest.substr(0, colon);
    const std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Status(Code::kInvalidInput, "bad port in URL: " + std::string(url));
    }
    address.port = static_cast<uint16_t>(value);
  }
  if (host.empty()) return Status(Code::kInvalidInput, "no host in URL: " + std::string(url));
  address.url = "http://" + std::string(host) + ":" + std::to_string(address.port);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  address.host = std::string(host);
  return address;
}

Session::Session(ServerAddress address, Credentials credentials, CredentialStore store)
    : address_(std::move(address)),
      credentials_(std::move(credentials)),
      store_(std::move(store)),
      http_(address_.host, address_.port) {}

Status Session::Unreachable(const Status& cause) const {
  // The client says "Cannot reach the server at host:port: <reason>"; keep the reason.
  const std::string& message = cause.message();
  const size_t colon = message.rfind(": ");
  const std::string reason = colon == std::string::npos ? message : message.substr(colon + 2);
  return {Code::kInternalError, "cannot reach the server at " + address_.url + " (" + reason + ")"};
}

std::string Session::Authorization() const {
  if (!credentials_.access_token.empty()) return "Bearer " + credentials_.access_token;
  if (!credentials_.username.empty()) {
    return client::BasicAuth(credentials_.username, credentials_.password);
  }
  return "";
}

Result<client::HttpResponse> Session::Send(std::string_view method, std::string_view target,
                                           std::string_view body) {
  for (int attempt = 0;; ++attempt) {
    client::Headers headers;
    if (std::string authorization = Authorization(); !authorization.empty()) {
      headers.emplace_back("Authorization", std::move(authorization));
    }
    auto res = http_.Send(method, target, body, headers);
    if (!res.ok()) return Unreachable(res.status());
    if (attempt == 0 && res->status == 401 && !credentials_.refresh_token.empty() &&
        ParseErrorBody(res->status, res->body).code == "TOKEN_EXPIRED" && Refresh()) {
      continue;
    }
    return res;
  }
}

bool Session::Refresh() {
  const std::string body = "{\"refresh_token\":" + JsonString(credentials_.refresh_token) + "}";
  auto res = http_.Send("POST", "/v1/api/auth/refresh", body);
  if (!res.ok() || res->status != 200) return false;
  const auto o = ParseObject(res->body);
  if (!o || Field(*o, "access_token").empty()) return false;
  credentials_.access_token = Field(*o, "access_token");
  credentials_.refresh_token = Field(*o, "refresh_token");
  // Best effort: a store that can't be written only costs a refresh next time.
  if (credentials_.stored) (void)StoreLogin();
  return true;
}

Result<SqlReply> Session::Execute(std::string_view sql) {
  auto res = Send("POST", "/v1/api/sql", "{\"sql\":" + JsonString(sql) + "}");
  if (!res.ok()) return res.status();
  return ParseSqlReply(res->status, res->body);
}

Result<Health> Session::CheckHealth() {
  auto res = http_.Send("GET", "/v1/api/healthcheck");
  if (!res.ok()) return Unreachable(res.status());
  const auto o = ParseObject(res->body);
  if (res->status != 200 || !o) {
    const ServerError e = ParseErrorBody(res->status, res->body);
    return Status(Code::kInternalError, e.code + ": " + e.message);
  }
  return Health{Field(*o, "status"), Field(*o, "version"), Field(*o, "api_version")};
}

Result<Identity> Session::WhoAmI() {
  auto res = Send("GET", "/v1/api/auth/me", "");
  if (!res.ok()) return res.status();
  const auto o = ParseObject(res->body);
  if (res->status != 200 || !o) return Identity{ParseErrorBody(res->status, res->body), "", ""};
  return Identity{std::nullopt, Field(*o, "username"), Field(*o, "role")};
}

Result<Identity> Session::Login(const std::string& username, const std::string& password) {
  const std::string body =
      "{\"username\":" + JsonString(username) + ",\"password\":" + JsonString(password) + "}";
  auto res = http_.Send("POST", "/v1/api/auth/login", body);
  if (!res.ok()) return Unreachable(res.status());
  const auto o = ParseObject(res->body);
  if (res->status != 200 || !o || Field(*o, "access_token").empty()) {
    return Identity{ParseErrorBody(res->status, res->body), "", ""};
  }
  Identity who{std::nullopt, username, ""};
  if (const json::value* user = o->if_contains("user"); user && user->is_object()) {
    who.username = Field(user->get_object(), "username");
    who.role = Field(user->get_object(), "role");
  }
  credentials_ =
      Credentials{who.username, "", Field(*o, "access_token"), Field(*o, "refresh_token"), true};
  return who;
}

Status Session::StoreLogin() {
  return store_.Save(
      address_.url, {credentials_.username, credentials_.access_token, credentials_.refresh_token});
}

}  // namespace kalam::cli
