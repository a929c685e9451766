// Listening and the accept loop of every TCP door (HTTP and WebSocket, the Postgres wire). Out of
// descriptors (or memory), accept fails at once until something closes: the loop backs off
// instead of spinning, and logs the failure once a second, not once a try. Asio only;
// included by the doors' listeners alone.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <string>

#include "common/log_throttle.h"
#include "common/status.h"

namespace kalam {

// Opens acceptor on host:port. key names the host's configuration key in the error
// (INVALID_INPUT for a host that is no IP address, INTERNAL_ERROR when the port is taken).
inline Status Listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                     uint16_t port, const std::string& key) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return {Code::kInvalidInput, key + " is not an IP address: " + host};
  asio::ip::tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return {Code::kInternalError, "Cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
  }
  return Status::Ok();
}

// Accepts connections, each on a strand of its own with TCP_NODELAY, and hands them to
// on_socket, until the acceptor is closed. door names the listener in the log.
inline boost::asio::awaitable<void> AcceptLoop(boost::asio::ip::tcp::acceptor& acceptor,
                                               std::string door,
                                               std::function<void(boost::asio::ip::tcp::socket)> on_socket) {
  namespace asio = boost::asio;
  LogThrottle errors;
  auto backoff = std::chrono::milliseconds(0);
  asio::steady_timer pause(acceptor.get_executor());
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(acceptor.get_executor()),
                                                       asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      if (auto held_back = errors.Allow()) {
        spdlog::warn("{}: accept failed: {}{}", door, ec.message(),
                     *held_back > 0 ? fmt::format(" ({} more since the last report)", *held_back)
                                    : std::string());
      }
      // Only running out of descriptors or memory is the server's state; other errors
      // concern one connection (a client that reset before accept) and need no pause.
      const int code = ec.value();
      if (code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM) {
        backoff = std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
        pause.expires_after(backoff);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    on_socket(std::move(socket));
  }
}

}  // namespace kalam
