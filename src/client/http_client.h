// A small blocking HTTP/1.1 client for KalamDB's API, with one keep-alive connection.
// The `kalam` CLI and the integration tests speak to the server through it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalam::client {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header with this name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends one request on the kept-alive connection (reconnecting once if the server
  // closed it). INTERNAL_ERROR with the reason when the server can't be reached.
  Result<HttpResponse> Send(std::string_view method, std::string_view target,
                            std::string_view body = {}, const Headers& headers = {});
  // Sends bytes as they are and reads one response: for malformed requests in tests.
  Result<HttpResponse> SendRaw(std::string_view bytes);
  void Close();

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }

 private:
  struct Connection;
  std::string host_;
  uint16_t port_;
  std::unique_ptr<Connection> connection_;
};

// "Basic base64(username:password)".
std::string BasicAuth(std::string_view username, std::string_view password);

}  // namespace kalam::client
