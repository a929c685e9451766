#include "client/ws_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace kalam::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool open = false;
  bool closed = false;
  bool reading = false;
  std::optional<std::string> received;
  beast::error_code read_error;
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() {
  if (impl_) Close();
}
WsClient::WsClient(WsClient&&) noexcept = default;

Status WsClient::Connect(const std::string& host, uint16_t port, const std::string& target,
                         const Headers& headers) {
  beast::error_code ec;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (!ec) beast::get_lowest_layer(impl_->ws).connect(endpoints, ec);
  if (ec) return {Code::kInternalError, "Cannot reach the server: " + ec.message()};
  impl_->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  impl_->ws.handshake(host + ":" + std::to_string(port), target, ec);
  if (ec) return {Code::kInternalError, "WebSocket handshake failed: " + ec.message()};
  impl_->open = true;
  return Status::Ok();
}

Status WsClient::Send(const std::string& text) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(text), ec);
  if (ec) return {Code::kInternalError, "WebSocket write failed: " + ec.message()};
  return Status::Ok();
}

Status WsClient::Ping() {
  beast::error_code ec;
  impl_->ws.ping({}, ec);
  if (ec) return {Code::kInternalError, "WebSocket ping failed: " + ec.message()};
  return Status::Ok();
}

std::optional<std::string> WsClient::Receive(std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  if (d.closed) return std::nullopt;
  if (!d.reading) {
    d.reading = true;
    d.ws.async_read(d.buffer, [&d](beast::error_code ec, size_t) {
      d.reading = false;
      if (ec) {
        d.closed = true;
        d.read_error = ec;
        return;
      }
      d.received = beast::buffers_to_string(d.buffer.data());
      d.buffer.consume(d.buffer.size());
    });
  }
  d.io.restart();
  d.io.run_for(timeout);
  if (d.received) {
    std::string out = std::move(*d.received);
    d.received.reset();
    return out;
  }
  return std::nullopt;
}

bool WsClient::closed() const { return impl_->closed; }

bool WsClient::closed_by_server_frame() const {
  return impl_->closed && impl_->read_error == websocket::error::closed;
}

void WsClient::Close() {
  if (impl_->open && !impl_->closed) {
    beast::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(impl_->ws).close();
  }
  impl_->open = false;
  impl_->closed = true;
}

}  // namespace kalam::client
