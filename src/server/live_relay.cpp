#include "server/live_relay.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <deque>

namespace kalam::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

constexpr std::chrono::seconds kConnectTimeout(1);
constexpr std::chrono::seconds kHandshakeTimeout(3);
// Without a message for this long the relay pings; without an answer for as long again it
// gives the node up (a node cut off is noticed within about this).
constexpr std::chrono::seconds kIdleTimeout(10);
// A snapshot batch from the node may be large (up to 10,000 rows).
constexpr size_t kMaxMessageBytes = 256u * 1024 * 1024;

}  // namespace

// Everything below is touched on the executor only.
struct LiveRelay::State {
  explicit State(asio::any_io_executor executor) : ws(executor) {}
  websocket::stream<beast::tcp_stream> ws;
  std::deque<std::string> queue;  // messages for the node, not yet written
  bool open = false;              // upgraded and greeted: writes may go
  bool writing = false;
  bool ended = false;             // closed, or failed (lost called)
  std::function<void(std::string)> deliver;
  std::function<void(const std::string&)> lost;

  void End(const std::string& why) {
    if (ended) return;
    ended = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    auto tell = std::move(lost);
    deliver = nullptr;
    if (tell && !why.empty()) tell(why);
  }
};

namespace {

awaitable<void> WriteQueued(std::shared_ptr<LiveRelay::State> state) {
  state->writing = true;
  while (!state->ended && !state->queue.empty()) {
    std::string message = std::move(state->queue.front());
    state->queue.pop_front();
    auto [ec, n] = co_await state->ws.async_write(asio::buffer(message), asio::as_tuple(use_awaitable));
    (void)n;
    if (ec) {
      state->End("sending to it failed: " + ec.message());
      break;
    }
  }
  state->writing = false;
}

void WriteIfIdle(const std::shared_ptr<LiveRelay::State>& state) {
  if (state->open && !state->writing && !state->ended && !state->queue.empty()) {
    asio::co_spawn(state->ws.get_executor(), WriteQueued(state), asio::detached);
  }
}

awaitable<void> RelayLoop(std::shared_ptr<LiveRelay::State> state, LiveRelay::Target target) {
  tcp::resolver resolver(state->ws.get_executor());
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), asio::as_tuple(use_awaitable));
  if (state->ended) co_return;
  if (resolve_ec) {
    state->End("its address is unknown: " + resolve_ec.message());
    co_return;
  }
  beast::tcp_stream& tcp_stream = beast::get_lowest_layer(state->ws);
  tcp_stream.expires_after(kConnectTimeout);
  auto [connect_ec, endpoint] = co_await tcp_stream.async_connect(endpoints, asio::as_tuple(use_awaitable));
  (void)endpoint;
  if (state->ended) co_return;
  if (connect_ec) {
    state->End("connecting failed: " + connect_ec.message());
    co_return;
  }
  tcp_stream.expires_never();
  tcp_stream.socket().set_option(tcp::no_delay(true));
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = kHandshakeTimeout;
  timeouts.idle_timeout = kIdleTimeout;
  timeouts.keep_alive_pings = true;
  state->ws.set_option(timeouts);
  state->ws.set_option(websocket::stream_base::decorator([headers = target.headers](websocket::request_type& request) {
    for (const auto& [name, value] : headers) request.set(name, value);
  }));
  state->ws.read_message_max(kMaxMessageBytes);
  auto [handshake_ec] = co_await state->ws.async_handshake(target.host + ":" + std::to_string(target.port), "/v1/ws",
                                                           asio::as_tuple(use_awaitable));
  if (state->ended) co_return;
  if (handshake_ec) {
    state->End("the upgrade failed: " + handshake_ec.message());
    co_return;
  }
  beast::flat_buffer buffer;
  bool greeted = false;
  while (!state->ended) {
    auto [ec, n] = co_await state->ws.async_read(buffer, asio::as_tuple(use_awaitable));
    (void)n;
    if (state->ended) co_return;
    if (ec) {
      state->End(ec == websocket::error::closed ? "it closed the connection" : "the connection failed: " + ec.message());
      co_return;
    }
    std::string text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    if (!greeted) {
      // The node answers the upgrade's credentials first: anything but success ends it.
      greeted = true;
      if (!text.starts_with("{\"type\":\"auth_success\"")) {
        state->End("it refused the relay: " + text.substr(0, 300));
        co_return;
      }
      state->open = true;
      WriteIfIdle(state);
      continue;
    }
    if (state->deliver) state->deliver(std::move(text));
  }
}

}  // namespace

LiveRelay::LiveRelay(asio::any_io_executor executor, Target target, std::function<void(std::string)> deliver,
                     std::function<void(const std::string& why)> lost)
    : target_(std::move(target)), state_(std::make_shared<State>(std::move(executor))) {
  state_->deliver = std::move(deliver);
  state_->lost = std::move(lost);
}

LiveRelay::~LiveRelay() { Close(); }

void LiveRelay::Start() {
  asio::co_spawn(state_->ws.get_executor(), RelayLoop(state_, target_), asio::detached);
}

void LiveRelay::Send(std::string message) {
  asio::post(state_->ws.get_executor(), [state = state_, message = std::move(message)]() mutable {
    if (state->ended) return;
    state->queue.push_back(std::move(message));
    WriteIfIdle(state);
  });
}

void LiveRelay::Close() {
  asio::post(state_->ws.get_executor(), [state = state_] {
    state->lost = nullptr;
    state->End("");
  });
}

}  // namespace kalam::server
