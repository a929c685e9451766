// The Postgres wire door: a listener on [postgres_wire] host:port beside the HTTP server,
// on the same I/O threads; statements go to the same executor, on the same statement
// pool, as over HTTP. One connection is one sql::Session, so a transaction may span
// Query messages; a connection that drops discards its open transaction.
#pragma once

#include <boost/asio/io_context.hpp>
#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/caller.h"
#include "common/config.h"
#include "common/status.h"
#include "sql/executor.h"
#include "sql/session.h"

namespace kalam::sql {
class Executor;
}
namespace kalam::auth {
class Authenticator;
class PasswordPool;
class RateLimiter;
}

namespace kalam::pgwire {

// Cluster mode: a transaction moved to the node leading the shard it writes, its
// statements run there one request at a time on the connection's behalf.
class MovedTransaction {
 public:
  struct Statement {
    std::string sql;  // one statement, its parameters bound
    std::string namespace_id;
  };
  struct Answer {
    std::vector<sql::StatementResult> results;  // of the statements that succeeded, in order
    Status error;  // the first one that failed (the one after the results), if any
    sql::Session::State state = sql::Session::State::kIdle;  // the transaction's there, after them
  };
  // Destroyed while the transaction is still open there: it is rolled back there.
  virtual ~MovedTransaction() = default;
  // Runs the statements there, in order, up to the first that fails. An error: the node
  // could not be asked or answered nothing readable (what the statements did is unknown).
  virtual Result<Answer> Run(const std::vector<Statement>& statements) = 0;
  // The node running it.
  virtual const std::string& node() const = 0;
};

// What a connection uses, all owned by the server and outliving the listener.
struct Services {
  sql::Executor& executor;
  auth::Authenticator& authenticator;
  auth::PasswordPool& passwords;         // sign-ins run bcrypt here
  auth::RateLimiter& rate_limiter;       // a Query message takes a token, as an HTTP request
  boost::asio::thread_pool& statements;  // statements run here, never on I/O threads
  const Config& config;
  std::atomic<int64_t>& open_connections;  // the connections served now, for the metrics
  // Cluster mode: runs an autocommit statement refused because another node leads its
  // shard (the refusal names it) there instead; nullopt when it can't be sent on. Empty
  // on a single server.
  std::function<std::optional<Result<sql::StatementResult>>(const Status& refusal, const auth::Caller& caller,
                                                            const std::string& sql, const std::string& namespace_id)>
      send_on;
  // Cluster mode: a transaction (with no writes yet) whose statement was refused because
  // another node leads its shard (the refusal names it), to be moved there; null when it
  // can't be (no other leader named). Empty on a single server.
  std::function<std::unique_ptr<MovedTransaction>(const Status& refusal, const auth::Caller& caller)> move_transaction;
};

class Listener {
 public:
  // Binds [postgres_wire] host (empty: [server] host) and port. A port in use is an error
  // here, not later.
  static Result<std::unique_ptr<Listener>> Bind(boost::asio::io_context& io, Services services);
  virtual ~Listener() = default;

  // Accepts connections until BeginShutdown.
  virtual void Start() = 0;
  // Ends the connections' I/O threads (connections still open end with them); after the
  // server's own I/O loop has returned.
  virtual void Stop() = 0;
  // Stops accepting and closes connections waiting for a message (telling them why); a
  // connection running a statement is closed once it is answered. on_drained runs once no
  // connection is left (at once if none is open).
  virtual void BeginShutdown(std::function<void()> on_drained) = 0;
  virtual uint16_t port() const = 0;
};

}  // namespace kalam::pgwire
