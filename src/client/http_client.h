// A small blocking HTTP/1.1 client for KalamDB's API, with one keep-alive connection.
// The `kalam` CLI and the integration tests speak to the server through it.
#pragma once

#include <chrono>
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
  // Each step of a request (connect, send, receive) fails after this long, with the
  // connection closed (INTERNAL_ERROR, "timed out"). Zero (the default): no limit.
  void SetTimeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  // How long connecting may take, when shorter than the timeout above (0: that timeout).
  void SetConnectTimeout(std::chrono::milliseconds timeout) { connect_timeout_ = timeout; }
  // A peer that stops answering at the TCP level (cut off, its machine gone) fails the
  // request after about this long, however long the response itself may take: keepalive
  // probes while waiting, and a limit on data left unacknowledged (TCP_USER_TIMEOUT). For
  // connections between servers on one network. Zero (the default): the timeout above only.
  void SetDeadPeerTimeout(std::chrono::milliseconds timeout) { dead_peer_timeout_ = timeout; }

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }

 private:
  struct Connection;
  // Before each step: its deadline. After starting it: runs it to its end.
  void Arm(Connection& c) const;
  static void Await(Connection& c);

  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_{0};
  std::chrono::milliseconds connect_timeout_{0};
  std::chrono::milliseconds dead_peer_timeout_{0};
  std::unique_ptr<Connection> connection_;
};

// "Basic base64(username:password)".
std::string BasicAuth(std::string_view username, std::string_view password);

}  // namespace kalam::client
