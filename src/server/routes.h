// The HTTP routes of docs/api.md: request in, JSON response out. No I/O here.
#pragma once

#include <boost/beast/http.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/caller.h"
#include "common/cancellation.h"
#include "common/status.h"

namespace kalam::sql {
struct BatchResult;
}

namespace kalam::server {

class App;
struct SqlBody;  // server/request_body.h

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// A topic consume request that found nothing and asked to wait (timeout_seconds): the
// server waits off the pools for an append to the topic or the deadline, then asks again
// with the same TopicWait.
struct TopicWait {
  std::optional<std::chrono::steady_clock::time_point> deadline;  // set by the first ask
  bool waiting = false;  // set when the answer is to wait, not the response
  uint64_t topic_num = 0;
  uint64_t version = 0;  // the topic's log version the empty read saw
  // When a range the group holds lapses and is due again: the wait ends then too.
  std::optional<std::chrono::steady_clock::time_point> lapse;
};

class Routes {
 public:
  // send_on_limit: how many requests may wait on another node's answer at once (cluster
  // mode: half the query threads, so the rest serve what other nodes send here).
  explicit Routes(App& app, size_t send_on_limit = SIZE_MAX);

  // Where a request is handled: health checks and CORS preflights in place, on the I/O
  // thread; a request whose credentials need a password checked (the login route; Basic
  // credentials not verified lately) first on the password pool, for Authenticate, then on
  // the query pool; topic consumes (and acknowledgements, unless every write waits for an
  // fsync) also on the I/O thread, as kTopic: they read and write a few keys and never
  // reach the engine, and a hop to the pool and back would cost more than they do — on a
  // single server (in cluster mode they wait for the topic's shard, or are sent on to its
  // leader); everything else on the query pool.
  enum class Work { kInPlace, kQuery, kPasswordThenQuery, kTopic };
  Work WorkOf(const Request& request);

  // For a POST of SQL, its body read (once: Handle takes it back); nullopt for other
  // requests. The server times how quickly requests of each statement shape answer, and
  // runs the quick ones on the I/O thread.
  std::optional<Result<SqlBody>> ReadSql(const Request& request) const;

  // Who the request's credentials name: those of its Authorization header, or, on the login
  // route, those of its body (a sign-in).
  Result<auth::Caller> Authenticate(const Request& request, const auth::Peer& peer);

  // caller: Authenticate's answer when it ran already; otherwise the route authenticates the
  // request itself. cancellation: the request's, set when its client goes away (may be null).
  // wait: where a topic consume that may wait says so (null: it answers at once).
  // sql_body: ReadSql's answer when it ran already (null: the SQL route reads the body).
  Response Handle(const Request& request, const auth::Peer& peer,
                  std::optional<Result<auth::Caller>> caller = std::nullopt,
                  const Cancellation* cancellation = nullptr, TopicWait* wait = nullptr,
                  const Result<SqlBody>* sql_body = nullptr);
  // The route a request's target names, as the metrics label it; "other" for none.
  static std::string_view Label(std::string_view target);

  // A JSON error response: {"status":"error","error":{"code","message"}}.
  Response Error(Code code, const std::string& message, unsigned version, bool keep_alive) const;

 private:
  // The JSON object a request of another node's carries, once its cluster token is good.
  Result<boost::json::object> NodeRequestBody(const Request& request);
  // A request from another node about a table's rows of some shards — POST
  // /v1/cluster/flush (its FLUSH: the shards this node leads) and /v1/cluster/hot-rows (its
  // SHOW STATS: the shards this node holds) — with the JSON body {"table_id": "ns:t",
  // "shards": [N, ...]} handed to answer, whose JSON is the reply.
  Response ForTableShards(
      const Request& request,
      const std::function<Result<std::string>(const std::string& table_id, const std::vector<int32_t>& shards)>& answer);
  // Cluster mode: a topic request refused here because another node leads the topic's
  // shard (refusal names it), answered there; nullopt when it can't be (the refusal stands).
  std::optional<Response> SendTopicRequestOn(const Request& request, const Status& refusal,
                                             std::chrono::milliseconds timeout);
  // A topic's leader appends outbox records another node delivers (cluster mode).
  Response TopicAppendForNode(const Request& request);
  // A request from another node of the cluster (/v1/cluster/...): its cluster token
  // checked, then the integer field of its JSON body, in [min, max], handed to answer, whose
  // JSON is the reply.
  Response BetweenNodes(const Request& request, std::string_view field, int64_t min, int64_t max,
                        const std::function<Result<std::string>(int64_t)>& answer);
  Response Sql(const Request& request, const Result<auth::Caller>& caller,
               const Cancellation* cancellation, const Result<SqlBody>* read);
  // Cluster mode: when the batch stopped at a write whose shard another node leads, the
  // batch from batch.replay_from on is sent there, and its answer follows the results of
  // the statements before; nullopt when it can't be (the caller answers the error).
  std::optional<Response> ReplayOnLeader(const Request& request, const SqlBody& body, const auth::Caller& caller,
                                         const sql::BatchResult& batch,
                                         std::chrono::steady_clock::time_point start);
  // Cluster mode: another node's Postgres wire transaction, moved here (this node leads
  // the shard it writes), runs statements in its session here (RelayedSessions): the
  // first request opens it, one with "end" gives it up.
  Response MovedTransaction(const Request& request, const Result<auth::Caller>& caller,
                            const Cancellation* cancellation);
  Response Login(const Request& request, const Result<auth::Caller>& caller);
  Response Refresh(const Request& request);
  Response Me(const Request& request, const Result<auth::Caller>& caller);
  Response Setup(const Request& request, const auth::Peer& peer);
  Response Metrics(const Request& request, const auth::Peer& peer,
                   const Result<auth::Caller>& caller);
  Response Json(unsigned status, std::string body, const Request& request) const;
  // POST /v1/api/topics/consume and /ack (topic_routes.cpp).
  Response TopicConsume(const Request& request, const Result<auth::Caller>& caller, TopicWait* wait);
  Response TopicAck(const Request& request, const Result<auth::Caller>& caller);

  App& app_;
  const size_t send_on_limit_;
  std::atomic<size_t> sending_on_{0};
  // One of the send_on_limit_ requests this node may have waiting on other nodes at once
  // (two nodes sending each other more than their threads would otherwise stall both).
  class SendOnSlot {
   public:
    explicit SendOnSlot(std::atomic<size_t>& count) : count_(&count) {}
    SendOnSlot(SendOnSlot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
    SendOnSlot(const SendOnSlot&) = delete;
    SendOnSlot& operator=(const SendOnSlot&) = delete;
    SendOnSlot& operator=(SendOnSlot&&) = delete;
    ~SendOnSlot();

   private:
    std::atomic<size_t>* count_;
  };
  // nullopt when every slot is taken: the client is told where to go instead.
  std::optional<SendOnSlot> TakeSendOnSlot();
};

}  // namespace kalam::server
