// One Postgres wire connection, from its start-up packet to Terminate: start-up and
// authentication, then the simple query protocol. Runs as a coroutine on a strand of its
// own; statements run on the statement pool. Internal to pgwire/.
//
// Bounds: a start-up must finish within [postgres_wire] startup_timeout_secs; a message
// larger than max_message_bytes, or bytes that are no message, are answered with an error
// and the connection closes; a reply the client does not read within kWriteTimeout closes it.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "auth/caller.h"
#include "pgwire/listener.h"
#include "pgwire/protocol.h"
#include "pgwire/session_settings.h"
#include "sql/session.h"

namespace kalam::pgwire {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  // stopping: set by the listener when the server shuts down.
  Connection(Socket socket, Services services, int32_t process_id, const std::atomic<bool>& stopping);

  // Serves the connection until it ends. refuse: the listener is at max_connections; the
  // client is told so (SQLSTATE 53300) once it has sent its start-up packet.
  boost::asio::awaitable<void> Run(bool refuse);
  // Closes the connection if it is waiting for a message. REQUIRES: on the strand.
  void StopIfIdle();
  Socket::executor_type executor() { return socket_.get_executor(); }

 private:
  struct Message {
    char type = 0;
    std::string body;
  };
  struct Startup {
    std::map<std::string, std::string> parameters;
  };

  // The protocol, from the start-up packet to the end; Run closes the socket after it.
  boost::asio::awaitable<void> Serve(bool refuse);
  // The coroutines below fill an out-parameter and return whether to go on: false when
  // the connection is to close (the client was told why when it matters). (GCC 12
  // has miscompiled coroutines returning non-trivial values.)

  // Reads start-up packets until a StartupMessage, answering SSLRequest with 'N'.
  boost::asio::awaitable<bool> ReadStartup(Startup& startup);
  boost::asio::awaitable<bool> Authenticate(const Startup& startup);  // sets caller_
  boost::asio::awaitable<bool> ReadMessage(Message& message);
  // Runs a Query message's statements on the statement pool; appends the replies to out_.
  void RunQuery(std::string_view text);
  // false when it failed (an ErrorResponse was appended).
  bool RunStatement(const std::string& statement);
  TxStatus TransactionStatus() const;

  boost::asio::awaitable<bool> ReadExactly(std::string& into, size_t n);
  boost::asio::awaitable<bool> Flush();  // writes out_
  // Sends a FATAL error and closes, reading what the client still sends for a moment so
  // the close doesn't reset the connection before the error is read. (Arguments by value:
  // GCC 12 can end a temporary bound to a coroutine's reference parameter too early.)
  boost::asio::awaitable<void> Fail(std::string sqlstate, std::string message);
  boost::asio::awaitable<void> Watchdog();
  void SetDeadline(std::chrono::steady_clock::time_point deadline);

  Socket socket_;
  Services services_;
  const int32_t process_id_;
  const std::atomic<bool>& stopping_;
  auth::Peer peer_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool waiting_for_message_ = false;  // on the strand
  auth::Caller caller_;
  SessionSettings settings_;
  sql::Session session_;
  std::string out_;  // replies not yet written
};

}  // namespace kalam::pgwire
