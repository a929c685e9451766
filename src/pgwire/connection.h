// One Postgres wire connection, from its start-up packet to Terminate: start-up and
// authentication, then the simple and the extended query protocols. Runs as a coroutine
// on a strand of its own; statements run on the statement pool. Internal to pgwire/.
//
// Replies are buffered and written when the client has no further message waiting (a
// pipelined Parse/Bind/Execute/Sync is answered in one write), or when they grow large.
//
// Bounds: a start-up must finish within [postgres_wire] startup_timeout_secs; a message
// larger than max_message_bytes, or bytes that are no message, are answered with an error
// and the connection closes; a reply the client does not read within kWriteTimeout closes it.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/caller.h"
#include "auth/scram.h"
#include "pgwire/listener.h"
#include "common/cancellation.h"
#include "pgwire/copy.h"
#include "pgwire/protocol.h"
#include "pgwire/results.h"
#include "pgwire/session_settings.h"
#include "sql/params.h"
#include "sql/quick_statements.h"
#include "sql/session.h"

namespace kalam::pgwire {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  // A CancelRequest's backend key, handed to the listener, which finds the connection.
  using CancelHandler = std::function<void(int32_t process_id, int32_t secret)>;

  // stopping: set by the listener when the server shuts down.
  Connection(Socket socket, Services services, int32_t process_id, const std::atomic<bool>& stopping,
             CancelHandler on_cancel);

  // Serves the connection until it ends. refuse: the listener is at max_connections; the
  // client is told so (SQLSTATE 53300) once it has sent its start-up packet.
  boost::asio::awaitable<void> Run(bool refuse);
  // Closes the connection if it is waiting for a message. REQUIRES: on the strand.
  void StopIfIdle();
  Socket::executor_type executor() { return socket_.get_executor(); }
  // Cancels the statement running now, if the secret is this connection's (BackendKeyData).
  // Any thread.
  void Cancel(int32_t process_id, int32_t secret);

 private:
  struct Message {
    char type = 0;
    std::string body;
  };

 public:
  // An error of the extended protocol: its SQLSTATE ("" none) and message. fatal: the
  // message's bytes are not what the protocol says, so the connection closes.
  struct Refusal {
    std::string sqlstate;
    std::string message;
    bool fatal = false;
  };

 private:
  struct Startup {
    std::map<std::string, std::string> parameters;
  };
  // What a statement answered.
  struct Answer {
    std::optional<ResultRows> rows;  // a row-returning statement's rows
    std::optional<CopyOut> copy;     // COPY ... TO STDOUT: the rows go out as CopyData
    std::string tag;                 // CommandComplete ("" with no rows: the empty query)
    std::vector<std::pair<std::string, std::string>> reported;  // ParameterStatus to send
    std::string notice;
    std::string warning_sqlstate;  // a WARNING where Postgres warns ("" none)
    std::string warning;
  };
  // A Parse: one statement and the types of its parameters.
  struct Prepared {
    std::string sql;                   // "" for the empty query
    std::vector<int32_t> param_types;  // one per parameter; 0: unspecified
  };
  // A Bind: a prepared statement with its values, run at its first Describe or Execute.
  struct Portal {
    std::shared_ptr<const Prepared> statement;
    std::vector<sql::ParamValue> params;
    std::vector<int16_t> result_formats;
    std::optional<Answer> answer;  // set once it ran
    size_t sent = 0;               // rows sent by Executes so far
  };

  // The protocol, from the start-up packet to the end; Run closes the socket after it.
  boost::asio::awaitable<void> Serve(bool refuse);
  // The coroutines below fill an out-parameter and return whether to go on: false when
  // the connection is to close (the client was told why when it matters). (GCC 12
  // has miscompiled coroutines returning non-trivial values.)

  // Reads start-up packets until a StartupMessage, answering SSLRequest with 'N'.
  boost::asio::awaitable<bool> ReadStartup(Startup& startup);
  boost::asio::awaitable<bool> Authenticate(const Startup& startup);  // sets caller_
  // The SCRAM-SHA-256 exchange; caller is its outcome. false when the connection closed.
  boost::asio::awaitable<bool> Scram(const std::string& username, const auth::ScramVerifier& verifier,
                                     Result<auth::Caller>& caller);
  boost::asio::awaitable<bool> ReadMessage(Message& message);
  // Whether in_ holds a whole message: then replies may wait to be written with its own.
  bool MessageBuffered() const;
  // Ensures in_ holds n unread bytes. false when the connection ended first.
  boost::asio::awaitable<bool> Fill(size_t n);

  // The simple query protocol: runs a Query message's statements (shapes: their
  // StatementShape, for the timing of quick statements); appends the replies to out_.
  void RunQuery(const std::vector<std::string>& statements, const std::vector<std::string>& shapes);
  // Runs one statement (on the statement pool): answered by the connection itself or by
  // the executor.
  Result<Answer> Run(const std::string& statement, std::optional<std::vector<sql::ParamValue>> params);
  // A statement's notice, ParameterStatus and CommandComplete (with tag).
  void AppendCompletion(const Answer& answer, std::string_view tag);

  // The extended query protocol, one message each. An error is set in refusal, not
  // appended: the caller answers it and skips to Sync (or closes, when fatal). The bool ones
  // return whether they succeeded.
  bool Parse(std::string_view body, Refusal& refusal);
  bool Bind(std::string_view body, Refusal& refusal);
  boost::asio::awaitable<void> Describe(std::string body, Refusal& refusal);
  boost::asio::awaitable<void> Execute(std::string body, Refusal& refusal);
  bool Close(std::string_view body, Refusal& refusal);
  // Runs the portal on the statement pool unless it ran already.
  boost::asio::awaitable<void> RunPortal(Portal& portal, Refusal& refusal);
  // RowDescription (formats: the Bind's, or none) or NoData for a statement's answer.
  bool AppendDescription(const std::optional<ResultRows>& rows, const std::vector<int16_t>& formats,
                         Refusal& refusal);
  Result<std::optional<ResultRows>> DescribeStatement(const Prepared& statement);
  TxStatus TransactionStatus() const;
  // Before a statement: refused inside a failed transaction (here or moved), and a
  // transaction here left idle past the limit ends.
  Status BeforeStatement();
  // A statement answered here failed: inside a transaction (here or moved), it fails it.
  void FailTransaction(const Status& why);

  // Cluster mode: a transaction with no writes yet, whose statement (its parameters bound)
  // was refused because another node leads the shard it must reach, moves there: what it
  // ran here runs there first and must read the same rows, then the statement runs there.
  // The batch's answer for the statement, or nullopt when it can't move (the refusal
  // stands).
  std::optional<sql::BatchResult> MoveTransaction(const Status& refusal, const std::string& statement);
  // The statement (its parameters bound) run in the moved transaction.
  sql::BatchResult RunMoved(const std::string& statement);
  // What the transaction here ran so far (while it has no writes), for a move.
  void NoteRan(const std::string& statement, sql::Session::State before, const sql::BatchResult& batch);

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
  const int32_t secret_;
  const std::atomic<bool>& stopping_;
  CancelHandler on_cancel_;
  auth::Peer peer_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool waiting_for_message_ = false;  // on the strand
  bool idle_in_transaction_ = false;  // the deadline is the idle-in-transaction limit
  bool idle_expired_ = false;         // it passed: the connection closes saying so
  auth::Caller caller_;
  SessionSettings settings_;
  sql::Session session_;
  // Cluster mode: the session's transaction when it moved to the node leading the shard
  // it writes (null otherwise), its state there, and whether it failed here (an error this
  // connection answered, or the node stopped answering): then it ends in a ROLLBACK.
  std::unique_ptr<MovedTransaction> moved_;
  sql::Session::State moved_state_ = sql::Session::State::kIdle;
  bool moved_failed_here_ = false;
  // Cluster mode: the statements the transaction open here ran so far (from its BEGIN,
  // while it wrote nothing), each with a digest of the rows it read (nullopt: none).
  struct Ran {
    MovedTransaction::Statement statement;
    std::optional<uint64_t> rows_digest;
  };
  std::vector<Ran> ran_;
  std::string out_;  // replies not yet written
  std::string in_;   // bytes read, not yet taken as messages from in_pos_ on
  size_t in_pos_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const Prepared>> prepared_;  // "" unnamed
  std::unordered_map<std::string, Portal> portals_;                             // "" unnamed
  // Per statement text (prepared) or shape (simple queries): whether it answered quickly
  // the last few times, so the next runs on the I/O thread without two thread hand-offs.
  sql::QuickStatements quick_;
  // The cancellation of the statement running now, for CancelRequest.
  std::mutex running_mutex_;
  Cancellation* running_ = nullptr;  // guarded by running_mutex_
};

}  // namespace kalam::pgwire
