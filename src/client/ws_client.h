// A small blocking WebSocket client for /v1/ws: the tests (and the CLI's \subscribe)
// speak to live queries through it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "client/http_client.h"
#include "common/status.h"

namespace kalam::client {

class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(WsClient&&) noexcept;

  // Connects and upgrades. target is "/v1/ws" or "/v1/ws?token=...".
  Status Connect(const std::string& host, uint16_t port, const std::string& target = "/v1/ws",
                 const Headers& headers = {});
  Status Send(const std::string& text);
  // A WebSocket ping frame; the server's stream answers with a pong frame, which Receive
  // passes over.
  Status Ping();
  // The next text message, or nullopt after timeout (or when the server closed: see closed()).
  std::optional<std::string> Receive(std::chrono::milliseconds timeout);
  bool closed() const;
  // After closed(): whether the server closed with a close frame and then ended the TCP
  // connection (the client waits for that end before it reports the close), rather than
  // dropping the connection without one.
  bool closed_by_server_frame() const;
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kalam::client
