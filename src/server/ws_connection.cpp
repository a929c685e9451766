#include "server/ws_connection.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "common/json_text.h"
#include "live/hub.h"
#include "live/snapshot.h"
#include "server/app.h"
#include "auth/password_pool.h"

namespace kalam::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;

constexpr size_t kMaxMessageBytes = 1024 * 1024;
// How long a client has to answer the server's close frame before the socket is closed.
constexpr std::chrono::seconds kCloseGrace(5);

std::string_view WsCode(Code code) {
  switch (code) {
    case Code::kPermissionDenied: return "UNAUTHORIZED";
    case Code::kInvalidCredentials:
    case Code::kInvalidToken:
    case Code::kTokenExpired:
    case Code::kInvalidAuthorizationHeader:
    case Code::kMissingAuthorization: return "UNAUTHORIZED";
    default: return CodeName(code);
  }
}

std::string TokenFromQuery(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("token=")) return std::string(pair.substr(6));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string AuthSuccess(const auth::Caller& caller) {
  return "{\"type\":\"auth_success\",\"user_id\":" + JsonString(caller.user_id) +
         ",\"role\":" + JsonString(auth::RoleName(caller.role)) + "}";
}

std::string AuthError(const Status& refused) {
  return "{\"type\":\"auth_error\",\"code\":" + JsonString(WsCode(refused.code())) +
         ",\"message\":" + JsonString(refused.message()) + "}";
}

}  // namespace

WsConnection::WsConnection(App& app, beast::tcp_stream stream, asio::thread_pool& pool,
                           auth::PasswordPool& password_pool, std::string connection_id)
    : app_(app),
      ws_(std::move(stream)),
      password_pool_(password_pool),
      work_(asio::make_strand(pool)),
      connection_id_(std::move(connection_id)),
      wake_(ws_.get_executor()),
      subscriptions_(app.live_services(), connection_id_) {}

WsConnection::~WsConnection() {
  subscriptions_.RemoveAll();
  for (auto& [node, relay] : relays_) relay->Close();
}

namespace {

// A connection as its subscriptions see it; it does not keep the connection alive.
class ConnectionOutlet final : public live::Outlet {
 public:
  explicit ConnectionOutlet(std::weak_ptr<WsConnection> connection) : connection_(std::move(connection)) {}
  void Send(std::string message) override {
    if (auto c = connection_.lock()) c->Send(std::move(message));
  }
  void SendMany(std::vector<std::string> messages) override {
    if (auto c = connection_.lock()) c->SendMany(std::move(messages));
  }

 private:
  std::weak_ptr<WsConnection> connection_;
};

}  // namespace

void WsConnection::Send(std::string message) {
  std::vector<std::string> one;
  one.push_back(std::move(message));
  SendMany(std::move(one));
}

void WsConnection::SendMany(std::vector<std::string> messages) {
  if (closing_ || messages.empty()) return;
  uint64_t size = 0;
  for (const auto& m : messages) size += m.size();
  const uint64_t pending = pending_bytes_.fetch_add(size) + size;
  if (pending > app_.config().websocket.max_pending_bytes) {
    // A slow consumer: tell it why and drop it; nobody waits for it.
    if (!closing_.exchange(true)) {
      app_.metrics().CountSlowConsumerDropped();
      asio::post(ws_.get_executor(), [self = shared_from_this()] {
        // Not from Send: it may run under the hub's lock.
        self->subscriptions_.RemoveAll();
        self->outbox_.clear();
        self->outbox_head_ = 0;
        {
          std::lock_guard lock(self->inbox_mutex_);
          self->inbox_.clear();
        }
        self->outbox_.push_back(live::ErrorMessage(
            "", "MESSAGE_TOO_LARGE", "Too many messages pending for this connection: closing"));
        self->wake_.cancel();
        // The error goes out once the client reads again; a client that never does is cut.
        self->CutAfter(std::chrono::seconds(10));
      });
    }
    return;
  }
  bool first;
  {
    std::lock_guard lock(inbox_mutex_);
    first = inbox_.empty();
    for (auto& message : messages) inbox_.push_back(std::move(message));
  }
  // One drain for everything handed over until it runs.
  if (first) asio::post(ws_.get_executor(), [self = shared_from_this()] { self->DrainInbox(); });
}

void WsConnection::DrainInbox() {
  std::vector<std::string> arrived;
  {
    std::lock_guard lock(inbox_mutex_);
    arrived.swap(inbox_);
  }
  for (auto& message : arrived) outbox_.push_back(std::move(message));
  wake_.cancel();
}

void WsConnection::Close() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    self->wake_.cancel();
    beast::get_lowest_layer(self->ws_).cancel();
  });
}

void WsConnection::SendError(std::string_view subscription_id, std::string_view code,
                             const std::string& text) {
  Send(live::ErrorMessage(subscription_id, code, text));
}

void WsConnection::SendLastAndClose(std::string message) {
  // Not Close(): cancelling the socket's operations would fail the stream, and neither the
  // message nor the close frame would go out.
  if (closing_.exchange(true)) return;
  pending_bytes_ += message.size();
  outbox_.push_back(std::move(message));
  wake_.cancel();
  CutAfter(kCloseGrace);
}

void WsConnection::CutAfter(std::chrono::seconds delay) {
  auto timer = std::make_shared<asio::steady_timer>(ws_.get_executor(), delay);
  timer->async_wait([connection = weak_from_this(), timer](beast::error_code) {
    if (auto self = connection.lock()) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    }
  });
}

awaitable<void> WsConnection::WriteLoop() {
  while (true) {
    while (outbox_head_ < outbox_.size()) {
      // Every message queued now but the last is framed straight into the bytes gathered
      // for the next write (no WebSocket write operation, handler and post each); the last
      // goes through the WebSocket stream, whose write sends them all in one system call.
      GatheringStream& gathering = ws_.next_layer();
      uint64_t framed = 0;
      while (outbox_.size() - outbox_head_ > 1 && gathering.gathered_bytes() < GatheringStream::kMaxGathered) {
        std::string& queued = outbox_[outbox_head_++];
        gathering.AppendMessage(ws_.text(), queued);
        framed += queued.size();
        std::string().swap(queued);
      }
      pending_bytes_ -= std::min<uint64_t>(pending_bytes_, framed);
      std::string message = std::move(outbox_[outbox_head_++]);
      if (outbox_head_ == outbox_.size()) {
        outbox_.clear();
        outbox_head_ = 0;
        if (outbox_.capacity() > 64) std::vector<std::string>().swap(outbox_);
      } else if (outbox_head_ > 64 && outbox_head_ * 2 > outbox_.size()) {
        // Steady traffic never drains it: drop the sent half.
        outbox_.erase(outbox_.begin(), outbox_.begin() + static_cast<std::ptrdiff_t>(outbox_head_));
        outbox_head_ = 0;
      }
      // The messages queued now go out in one write: gathered while more follow.
      ws_.next_layer().set_corked(outbox_head_ < outbox_.size());
      auto [ec, n] = co_await ws_.async_write(asio::buffer(message), asio::as_tuple(use_awaitable));
      (void)n;
      pending_bytes_ -= std::min<uint64_t>(pending_bytes_, message.size());
      if (ec) {
        writer_done_ = true;
        co_return;
      }
    }
    if (closing_) break;
    wake_.expires_at(asio::steady_timer::time_point::max());
    auto [ec] = co_await wake_.async_wait(asio::as_tuple(use_awaitable));
    (void)ec;
  }
  ws_.next_layer().set_corked(false);
  // The close frame; with the client's answer (a pending read takes it) Beast ends the TCP
  // connection. Whether or not the handshake completed, the socket is closed after it.
  beast::error_code ignored;
  co_await ws_.async_close(websocket::close_code::policy_error, asio::redirect_error(use_awaitable, ignored));
  beast::get_lowest_layer(ws_).socket().close(ignored);
  writer_done_ = true;
}

awaitable<void> WsConnection::Run(Request upgrade, auth::Peer peer) {
  peer_ = std::move(peer);
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.read_message_max(kMaxMessageBytes);
  // Messages go out as single frames straight from their strings: the stream's own write
  // buffer (4 KiB per connection by default) stays small.
  ws_.auto_fragment(false);
  ws_.write_buffer_bytes(512);
  // Authentication on the upgrade: a header, or ?token=.
  std::string authorization;
  if (auto it = upgrade.find(beast::http::field::authorization); it != upgrade.end()) {
    authorization = std::string(it->value());
  } else if (std::string token = TokenFromQuery({upgrade.target().data(), upgrade.target().size()});
             !token.empty()) {
    authorization = "Bearer " + token;
  }
  // Another node relaying its client's subscriptions: the cluster's token, and the user.
  std::optional<std::string> acting_as;
  if (auto it = upgrade.find(kActAsHeader); it != upgrade.end() && app_.config().cluster.enabled()) {
    acting_as = std::string(it->value());
  }
  auto [accept_ec] = co_await ws_.async_accept(upgrade, asio::as_tuple(use_awaitable));
  upgrade = Request();  // its headers are not needed for the connection's life
  if (accept_ec) co_return;
  auto self = shared_from_this();
  asio::co_spawn(ws_.get_executor(), [self]() { return self->WriteLoop(); }, asio::detached);

  if (acting_as) {
    relayed_in_ = true;
    Authenticated(app_.authenticator().ActingAs(authorization, *acting_as));
    if (!caller_) co_return;
  } else if (!authorization.empty()) {
    Authenticated(co_await Authorize(authorization));
    if (!caller_) co_return;
  } else {
    // The first message must authenticate within the timeout.
    auto timer = std::make_shared<asio::steady_timer>(
        ws_.get_executor(), std::chrono::seconds(app_.config().websocket.auth_timeout_secs));
    timer->async_wait([self, timer](beast::error_code ec) {
      if (!ec && !self->caller_) {
        self->SendLastAndClose(
            AuthError({Code::kAuthRequired, "Authenticate within the timeout"}));
      }
    });
  }

  beast::flat_buffer buffer;
  while (!closing_) {
    auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(use_awaitable));
    (void)n;
    if (ec == websocket::error::message_too_big) {
      SendError("", "MESSAGE_TOO_LARGE", "Messages are limited to 1 MiB");
      Close();
      break;
    }
    if (ec) break;
    std::string text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    co_await Handle(text);
  }
  closing_ = true;
  wake_.cancel();
  // After the subscribes still queued for this connection (they see closing_ and stop).
  asio::post(work_, [self = shared_from_this()] {
    self->subscriptions_.RemoveAll();
    self->EndRelays();
  });
}

void WsConnection::Unsubscribe(const std::string& id) {
  if (auto relayed = relayed_.find(id); relayed != relayed_.end()) {
    // The node answers "unsubscribed".
    if (auto relay = relays_.find(relayed->second); relay != relays_.end()) {
      relay->second->Send("{\"type\":\"unsubscribe\",\"subscription_id\":" + JsonString(id) + "}");
    }
    relayed_.erase(relayed);
    subscriptions_.Release(id);
    return;
  }
  if (!subscriptions_.Unsubscribe(id)) {
    SendError(id, "INVALID_SUBSCRIPTION_ID", "No subscription '" + id + "' on this connection");
    return;
  }
  Send("{\"type\":\"unsubscribed\",\"subscription_id\":" + JsonString(id) + "}");
}

awaitable<void> WsConnection::Handle(const std::string& text) {
  Result<live::ClientMessage> parsed = live::ParseClientMessage(text);
  if (!parsed.ok()) {
    SendError("", WsCode(parsed.status().code()), parsed.status().message());
    co_return;
  }
  live::ClientMessage& message = *parsed;
  if (std::holds_alternative<live::PingMessage>(message)) {
    Send("{\"type\":\"pong\"}");
    co_return;
  }
  if (const auto* authenticate = std::get_if<live::AuthenticateMessage>(&message)) {
    co_await Authenticate(*authenticate);
    co_return;
  }
  if (!caller_) {
    SendLastAndClose(live::ErrorMessage("", "AUTH_REQUIRED", "Authenticate first"));
    co_return;
  }
  // Subscribing and unsubscribing run on the query pool, one at a time per connection and
  // in the order sent, while this coroutine reads on: a burst of subscribes is one hand-off
  // to the pool, not two thread switches per message.
  if (auto* subscribe = std::get_if<live::SubscribeMessage>(&message)) {
    asio::post(work_, [self = shared_from_this(), request = std::move(subscribe->request), text] {
      if (!self->closing_) self->Subscribe(request, text);
    });
    co_return;
  }
  if (auto* unsubscribe = std::get_if<live::UnsubscribeMessage>(&message)) {
    asio::post(work_, [self = shared_from_this(), id = std::move(unsubscribe->subscription_id)] {
      self->Unsubscribe(id);
    });
    co_return;
  }
  const Status& refusal = std::get<live::UnknownMessage>(message).refusal;
  SendError("", WsCode(refusal.code()), refusal.message());
}

awaitable<void> WsConnection::Authenticate(const live::AuthenticateMessage& message) {
  if (caller_) {
    SendError("", "PROTOCOL", "Already authenticated");
    co_return;
  }
  Result<auth::Caller> caller = Status(Code::kInvalidCredentials, "Unknown authentication method");
  if (message.method == "jwt") {
    caller = co_await Authorize("Bearer " + message.token);
  } else if (message.method == "basic") {
    caller = co_await password_pool_.Run([&] {
      return app_.authenticator().SignIn(message.username, message.password, peer_);
    });
  }
  Authenticated(caller);
}

awaitable<Result<auth::Caller>> WsConnection::Authorize(const std::string& authorization) {
  auth::Authenticator& authenticator = app_.authenticator();
  if (!authenticator.NeedsPasswordCheck(authorization)) {
    co_return authenticator.Authenticate(authorization, peer_, std::nullopt);
  }
  co_return co_await password_pool_.Run(
      [&] { return authenticator.Authenticate(authorization, peer_, std::nullopt); });
}

void WsConnection::Authenticated(const Result<auth::Caller>& caller) {
  if (!caller.ok()) {
    SendLastAndClose(AuthError(caller.status()));
    return;
  }
  caller_ = *caller;
  Send(AuthSuccess(*caller_));
}

void WsConnection::Subscribe(const Result<live::SubscribeRequest>& request, const std::string& text) {
  if (!request.ok()) {
    SendError("", WsCode(request.status().code()), request.status().message());
    return;
  }
  if (!outlet_) outlet_ = std::make_shared<ConnectionOutlet>(weak_from_this());
  Status s = subscriptions_.Subscribe(*caller_, outlet_, *request);
  if (s.ok()) return;
  if (std::optional<std::string> holder = live::HolderNamedIn(s); holder && !relayed_in_) {
    // The id is taken here (limits, duplicates) before the node sees the subscription.
    if (Status reserved = subscriptions_.Reserve(request->id); !reserved.ok()) {
      SendError(request->id, WsCode(reserved.code()), reserved.message());
      return;
    }
    if (Relay(*request, text, *holder)) return;
    subscriptions_.Release(request->id);
  }
  SendError(request->id, WsCode(s.code()), s.message());
}

bool WsConnection::Relay(const live::SubscribeRequest& request, const std::string& text, const std::string& node) {
  std::shared_ptr<LiveRelay>& relay = relays_[node];
  if (!relay) {
    const std::optional<std::string> address = app_.NodeAddress(node);
    const size_t colon = address ? address->rfind(':') : std::string::npos;
    if (colon == std::string::npos || node == app_.config().cluster.node_id) {
      relays_.erase(node);
      return false;
    }
    LiveRelay::Target target;
    target.node_id = node;
    target.host = address->substr(0, colon);
    target.port = static_cast<uint16_t>(std::atoi(address->c_str() + colon + 1));
    target.headers = {
        {"Authorization", "Bearer " + app_.authenticator().ClusterToken(app_.config().cluster.node_id)},
        {std::string(kActAsHeader), caller_->user_id},
        {std::string(kForwardedHeader), app_.config().cluster.node_id}};
    std::weak_ptr<WsConnection> weak = weak_from_this();
    relay = std::make_shared<LiveRelay>(
        ws_.get_executor(), std::move(target),
        [weak](std::string message) {
          if (auto self = weak.lock()) self->Relayed(std::move(message));
        },
        [weak, node](const std::string& why) {
          auto self = weak.lock();
          if (!self) return;
          spdlog::info("live: the relay of connection {} to node '{}' ended: {}", self->connection_id_, node, why);
          // Its subscriptions are gone: the client reconnects (through any node) and
          // resumes them from the last _seq it heard, as after a node's loss.
          self->SendLastAndClose(live::ErrorMessage(
              "", "SERVICE_UNAVAILABLE",
              "node '" + node + "', which served this connection's subscriptions to rows this node holds no "
              "replica of, went away (" + why + "): reconnect and subscribe again (from_seq_id resumes)"));
        });
    relay->Start();
  }
  relayed_[request.id] = node;
  relay->Send(text);
  return true;
}

void WsConnection::Relayed(std::string message) {
  // An error naming a relayed subscription ends it there (refused, or ended): its id is
  // free again here.
  constexpr std::string_view kError = "{\"type\":\"error\",\"subscription_id\":";
  if (message.starts_with(kError)) {
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(message, ec);
    const boost::json::string* id = ec || !parsed.is_object() ? nullptr : parsed.as_object().if_contains("subscription_id")
                                                                        ? parsed.at("subscription_id").if_string()
                                                                        : nullptr;
    if (id != nullptr) {
      asio::post(work_, [self = shared_from_this(), id = std::string(*id)] {
        if (self->relayed_.erase(id) > 0) self->subscriptions_.Release(id);
      });
    }
  }
  Send(std::move(message));
}

void WsConnection::EndRelays() {
  for (auto& [node, relay] : relays_) relay->Close();
  relays_.clear();
  relayed_.clear();
}

}  // namespace kalam::server
