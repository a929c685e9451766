// One WebSocket connection of /v1/ws (docs/api.md): authentication, subscribe / unsubscribe / ping,
// and a bounded outbound queue that writers and the commit path never wait on.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <unordered_map>

#include "auth/caller.h"
#include "common/status.h"
#include "live/client_message.h"
#include "live/subscribe.h"
#include "server/gathering_stream.h"
#include "server/live_relay.h"

namespace kalam::live {
class Outlet;
}

namespace kalam::auth {
class PasswordPool;
}

namespace kalam::server {

class App;

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  using Stream = boost::beast::websocket::stream<GatheringStream>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  WsConnection(App& app, boost::beast::tcp_stream stream, boost::asio::thread_pool& pool,
               auth::PasswordPool& password_pool, std::string connection_id);
  ~WsConnection();

  // Accepts the upgrade and serves until the connection closes.
  boost::asio::awaitable<void> Run(Request upgrade, auth::Peer peer);

  // Thread-safe. Queues a text message; past websocket.max_pending_bytes the client gets
  // an error and is closed (the caller never waits).
  void Send(std::string message);
  // Thread-safe. The same for several messages, queued at once.
  void SendMany(std::vector<std::string> messages);
  // Thread-safe: ends the connection (server shutdown).
  void Close();

 private:
  boost::asio::awaitable<void> WriteLoop();
  boost::asio::awaitable<void> Handle(const std::string& text);
  boost::asio::awaitable<void> Authenticate(const live::AuthenticateMessage& message);
  // authorization as the Authorization header would carry it: checked in place for a token,
  // on the password pool for a password.
  boost::asio::awaitable<Result<auth::Caller>> Authorize(const std::string& authorization);
  // On the connection's executor: the connection is the caller's, or it is told why not and
  // closed.
  void Authenticated(const Result<auth::Caller>& caller);
  // text: the message as the client sent it (relayed as it is).
  void Subscribe(const Result<live::SubscribeRequest>& request, const std::string& text);  // on work_
  void Unsubscribe(const std::string& id);              // on work_
  // Cluster mode, on work_: relays the subscription (its id reserved) to node, which holds
  // the shard of its rows; false when the node's address is unknown (the refusal then
  // goes to the client).
  bool Relay(const live::SubscribeRequest& request, const std::string& text, const std::string& node);
  // On the connection's executor: what a relay brings from its node, for the client.
  void Relayed(std::string message);
  void EndRelays();  // on work_
  void SendError(std::string_view subscription_id, std::string_view code, const std::string& text);
  // On the connection's executor. Queues message as the last one: the writer sends it, then
  // a close frame, and the TCP connection ends with the closing handshake (cut after a few
  // seconds if the client never answers). Nothing is read or sent after it.
  void SendLastAndClose(std::string message);
  // Thread-safe: closes the socket after delay, whatever state the connection is in.
  void CutAfter(std::chrono::seconds delay);

  App& app_;
  Stream ws_;
  auth::PasswordPool& password_pool_;
  // The query pool, one task at a time for this connection: subscribes and unsubscribes.
  boost::asio::strand<boost::asio::thread_pool::executor_type> work_;
  const std::string connection_id_;
  auth::Peer peer_;
  std::optional<auth::Caller> caller_;

  // Outbound queue: touched on the strand only; pending_bytes_ by any thread.
  // A vector read from outbox_head_ (a deque would allocate 600 bytes per idle connection).
  std::vector<std::string> outbox_;
  size_t outbox_head_ = 0;
  boost::asio::steady_timer wake_;
  std::atomic<uint64_t> pending_bytes_ = 0;
  // Messages handed over by other threads, in the order SendMany was called: posting each
  // hand-over as a handler of its own would not keep that order (a post from the
  // connection's own I/O thread waits in that thread's private queue until its handler
  // returns, and a later post from another thread can overtake it).
  std::mutex inbox_mutex_;
  std::vector<std::string> inbox_;
  void DrainInbox();
  std::atomic<bool> closing_ = false;
  bool writer_done_ = false;

  // Set when another node relays its client's subscriptions through this connection: its
  // refusals go back as they are (never relayed again).
  bool relayed_in_ = false;
  // Cluster mode: subscriptions relayed to the nodes holding their rows' shards (on work_).
  std::unordered_map<std::string, std::shared_ptr<LiveRelay>> relays_;  // by node id
  std::unordered_map<std::string, std::string> relayed_;  // subscription id -> node id

  live::ConnectionSubscriptions subscriptions_;  // touched on work_ (RemoveAll: any thread)
  std::shared_ptr<live::Outlet> outlet_;  // this connection for its subscriptions (on work_)
};

}  // namespace kalam::server
