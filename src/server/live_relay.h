// Cluster mode: a client's live queries on rows of a shard this node holds no replica of
// (so hears none of their changes), relayed to a node that holds it. One WebSocket per
// client connection and node, opened as the client's user with the cluster's token; it
// carries the client's subscribe and unsubscribe messages there as the client sent them,
// and every message from there back to the client as it came.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "client/http_client.h"

namespace kalam::server {

// With a cluster token: the user another node acts for (an HTTP statement sent on, a
// WebSocket relayed).
inline constexpr std::string_view kActAsHeader = "X-Kalam-Act-As";
// Set by the node that sent a request on: the node asked never sends it on again.
inline constexpr std::string_view kForwardedHeader = "X-Kalam-Forwarded-By";

class LiveRelay : public std::enable_shared_from_this<LiveRelay> {
 public:
  struct Target {
    std::string node_id;
    std::string host;
    uint16_t port = 0;
    client::Headers headers;  // sent with the upgrade: the cluster token, act-as, forwarded-by
  };
  // deliver: each message from the node, for the client. lost: once, when the connection
  // to the node fails or ends before Close (why it did). Both run on executor, the client
  // connection's.
  LiveRelay(boost::asio::any_io_executor executor, Target target, std::function<void(std::string)> deliver,
            std::function<void(const std::string& why)> lost);
  ~LiveRelay();

  // Connects (within a second), upgrades, and relays until Close or a failure.
  void Start();
  // Thread-safe: a message for the node, sent once connected, in the order given.
  void Send(std::string message);
  // Thread-safe: ends the connection; lost is not called after it.
  void Close();

  const std::string& node_id() const { return target_.node_id; }

  struct State;  // the connection, on the executor (live_relay.cpp)

 private:
  const Target target_;
  std::shared_ptr<State> state_;
};

}  // namespace kalam::server
