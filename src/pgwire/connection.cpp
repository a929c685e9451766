#include "pgwire/connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <random>

#include "auth/authenticator.h"
#include "auth/password_pool.h"
#include "auth/peer.h"
#include "auth/rate_limiter.h"
#include "pgwire/command_tag.h"
#include "pgwire/postgres_syntax.h"
#include "pgwire/results.h"
#include "pgwire/values.h"
#include "sql/executor.h"
#include "sql/params.h"
#include "sql/splitter.h"

namespace kalam::pgwire {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr size_t kReadChunk = 4 * 1024;  // PostgreSQL reads 8 KiB; small messages fit
constexpr size_t kFlushBytes = 256 * 1024;  // replies held back for a pipeline at most
// How SUBSCRIBE TO's answer begins (the executor's hand-off to the WebSocket).
constexpr std::string_view kSubscriptionHandOff = R"({"status":"subscription_required")";
// Cluster mode: a transaction that ran more statements than this before its first write
// does not move to another node (they would all run again there): its refusal stands.
constexpr size_t kMaxRan = 1000;

int32_t RandomSecret() {
  static thread_local std::mt19937 random{std::random_device{}()};
  return static_cast<int32_t>(random());
}

}  // namespace

Connection::Connection(Socket socket, Services services, int32_t process_id,
                       const std::atomic<bool>& stopping, CancelHandler on_cancel)
    : socket_(std::move(socket)),
      services_(services),
      process_id_(process_id),
      secret_(RandomSecret()),
      stopping_(stopping),
      on_cancel_(std::move(on_cancel)),
      peer_(auth::PeerOf(socket_)),
      timer_(socket_.get_executor()),
      session_(services.executor.session_limits()) {
  timer_.expires_at(Clock::time_point::max());  // no deadline yet
}

void Connection::SetDeadline(Clock::time_point deadline) {
  deadline_ = deadline;
  // The timer moves only to go off earlier (waking the watchdog to wait again). A later
  // deadline leaves it: when it goes off, the watchdog finds the deadline moved and waits
  // for it. So a reply's write timeout costs no timer change while one is pending.
  if (deadline < timer_.expiry()) timer_.expires_at(deadline);
}

// Closes the socket once the deadline passes: a pending read or write then fails.
awaitable<void> Connection::Watchdog() {
  auto self = shared_from_this();
  while (socket_.is_open()) {
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(use_awaitable));
    if (!socket_.is_open()) break;
    if (!ec && Clock::now() < deadline_) {
      timer_.expires_at(deadline_);  // the deadline moved later meanwhile
      continue;
    }
    if (!ec) {
      boost::system::error_code ignored;
      if (idle_in_transaction_ && waiting_for_message_) {
        // Idle in a transaction past the limit: the read ends, and the connection says why.
        idle_expired_ = true;
        SetDeadline(Clock::time_point::max());
        socket_.cancel(ignored);
        continue;
      }
      socket_.close(ignored);
      break;
    }
    if (ec && ec != asio::error::operation_aborted) break;
  }
}

void Connection::StopIfIdle() {
  if (!waiting_for_message_) return;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

awaitable<bool> Connection::ReadExactly(std::string& into, size_t n) {
  into.resize(n);
  auto [ec, read] = co_await asio::async_read(socket_, asio::buffer(into), asio::as_tuple(use_awaitable));
  co_return !ec && read == n;
}

awaitable<bool> Connection::Flush() {
  if (out_.empty()) co_return true;
  const auto deadline = deadline_;
  SetDeadline(std::min(deadline, Clock::now() + kWriteTimeout));
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_), asio::as_tuple(use_awaitable));
  (void)n;
  out_.clear();
  if (!ec) SetDeadline(deadline);
  co_return !ec;
}

awaitable<void> Connection::Fail(std::string sqlstate, std::string message) {
  AppendError(out_, "FATAL", sqlstate, message);
  if (co_await Flush()) {
    boost::system::error_code ec;
    socket_.shutdown(Socket::shutdown_send, ec);
    SetDeadline(std::min(deadline_, Clock::now() + kDrainTime));
    char sink[4096];
    while (true) {
      auto [read_ec, n] = co_await socket_.async_read_some(asio::buffer(sink), asio::as_tuple(use_awaitable));
      (void)n;
      if (read_ec) break;
    }
  }
  boost::system::error_code ignored;
  socket_.close(ignored);
}

awaitable<bool> Connection::ReadStartup(Startup& startup) {
  std::string header;
  std::string body;
  while (true) {
    if (!co_await ReadExactly(header, 8)) co_return false;
    const int32_t length = ReadInt32(header.data());
    const int32_t code = ReadInt32(header.data() + 4);
    if (length < 8 || length > kMaxStartupPacket) {
      co_await Fail("08P01", "invalid length of startup packet");
      co_return false;
    }
    if (!co_await ReadExactly(body, static_cast<size_t>(length - 8))) co_return false;
    if (code == kSslRequest || code == kGssEncRequest) {
      out_ += 'N';  // no TLS, no GSSAPI encryption: the client goes on in the clear or leaves
      if (!co_await Flush()) co_return false;
      continue;
    }
    if (code == kCancelRequest) {
      // Another connection's backend key: cancel its statement. No answer, as in Postgres.
      if (body.size() == 8 && on_cancel_) on_cancel_(ReadInt32(body.data()), ReadInt32(body.data() + 4));
      co_return false;
    }
    if ((code >> 16) != 3) {
      co_await Fail("0A000", "unsupported frontend protocol " + std::to_string(code >> 16) + "." +
                                 std::to_string(code & 0xffff) + ": the server supports 3.0");
      co_return false;
    }
    std::optional<std::map<std::string, std::string>> parameters = ReadStartupParameters(body);
    if (!parameters) {
      co_await Fail("08P01", "invalid startup packet layout");
      co_return false;
    }
    startup.parameters = std::move(*parameters);
    if ((code & 0xffff) != 0) {
      // A newer 3.x: say the newest this server speaks; the client goes on with 3.0.
      MessageBuilder('v').Int32(kProtocol30).Int32(0).AppendTo(out_);
    }
    co_return true;
  }
}

awaitable<bool> Connection::Authenticate(const Startup& startup) {
  auto user = startup.parameters.find("user");
  if (user == startup.parameters.end() || user->second.empty()) {
    co_await Fail("28000", "no PostgreSQL user name specified in startup packet");
    co_return false;
  }
  const std::string username = user->second;
  Result<auth::Authenticator::PostgresSignIn> sign_in = services_.authenticator.StartPostgresSignIn(username, peer_);
  if (!sign_in.ok()) {
    co_await Fail(std::string(SqlState(sign_in.status().code())), sign_in.status().message());
    co_return false;
  }
  Result<auth::Caller> caller = Status(Code::kInvalidCredentials, "");
  using Method = auth::Authenticator::PostgresMethod;
  if (sign_in->method == Method::kScram) {
    if (!co_await Scram(username, sign_in->verifier, caller)) co_return false;
  } else {
    std::string password;
    if (sign_in->method == Method::kCleartext) {
      // A password set before SCRAM verifiers were kept: asked in the clear, checked with
      // bcrypt; the sign-in stores its verifier, so the next one is SCRAM.
      AppendAuthentication(out_, 3);  // AuthenticationCleartextPassword
      if (!co_await Flush()) co_return false;
      Message message;
      if (!co_await ReadMessage(message)) co_return false;
      const std::optional<std::string_view> sent = ReadPassword(message.body);
      if (message.type != 'p' || !sent) {
        co_await Fail("08P01", "expected a password message");
        co_return false;
      }
      password = std::string(*sent);
    }
    caller = co_await services_.passwords.Run(
        [this, &username, &password] { return services_.authenticator.SignIn(username, password, peer_); });
  }
  if (!caller.ok()) {
    std::string message = caller.status().message();
    if (caller.status().code() == Code::kInvalidCredentials) {
      message = "password authentication failed for user \"" + username + "\"";
    }
    co_await Fail(std::string(SqlState(caller.status().code())), std::move(message));
    co_return false;
  }
  caller_ = std::move(caller).value();
  co_return true;
}

awaitable<bool> Connection::Scram(const std::string& username, const auth::ScramVerifier& verifier,
                                  Result<auth::Caller>& caller) {
  MessageBuilder('R').Int32(10).CString("SCRAM-SHA-256").CString("").AppendTo(out_);  // AuthenticationSASL
  if (!co_await Flush()) co_return false;
  Message message;
  if (!co_await ReadMessage(message)) co_return false;
  const std::optional<SaslInitialResponse> initial = ReadSaslInitialResponse(message.body);
  if (message.type != 'p' || !initial) {
    co_await Fail("08P01", "expected a SASLInitialResponse message");
    co_return false;
  }
  if (initial->mechanism != "SCRAM-SHA-256") {
    co_await Fail("28000", "client selected an invalid SASL authentication mechanism");
    co_return false;
  }
  auth::ScramExchange exchange(verifier);
  Result<std::string> server_first = exchange.Start(initial->client_first);
  if (!server_first.ok()) {
    co_await Fail("08P01", server_first.status().message());
    co_return false;
  }
  MessageBuilder('R').Int32(11).Bytes(*server_first).AppendTo(out_);  // AuthenticationSASLContinue
  if (!co_await Flush()) co_return false;
  if (!co_await ReadMessage(message)) co_return false;
  if (message.type != 'p') {
    co_await Fail("08P01", "expected a SASLResponse message");
    co_return false;
  }
  Result<std::string> server_final = exchange.Finish(message.body);
  if (!server_final.ok() && server_final.status().code() != Code::kInvalidCredentials) {
    co_await Fail("08P01", server_final.status().message());
    co_return false;
  }
  caller = co_await services_.passwords.Run([this, &username, ok = server_final.ok()] {
    return services_.authenticator.FinishScramSignIn(username, peer_, ok);
  });
  if (caller.ok()) MessageBuilder('R').Int32(12).Bytes(*server_final).AppendTo(out_);  // AuthenticationSASLFinal
  co_return true;
}

bool Connection::MessageBuffered() const {
  const size_t have = in_.size() - in_pos_;
  if (have < 5) return false;
  const int32_t length = ReadInt32(in_.data() + in_pos_ + 1);
  return length >= 4 && have >= 1 + static_cast<size_t>(length);
}

awaitable<bool> Connection::Fill(size_t n) {
  while (in_.size() - in_pos_ < n) {
    if (in_pos_ > 0) {
      in_.erase(0, in_pos_);
      in_pos_ = 0;
    }
    const size_t have = in_.size();
    in_.resize(std::max(have + kReadChunk, n));
    waiting_for_message_ = have == 0;
    auto [ec, got] = co_await socket_.async_read_some(asio::buffer(in_.data() + have, in_.size() - have),
                                                      asio::as_tuple(use_awaitable));
    waiting_for_message_ = false;
    in_.resize(have + (ec ? 0 : got));
    if (ec) co_return false;
  }
  co_return true;
}

awaitable<bool> Connection::ReadMessage(Message& message) {
  if (in_pos_ == in_.size() && in_.capacity() > kReadChunk * 4) {
    std::string().swap(in_);  // a large message is done with: give its buffer back
    in_pos_ = 0;
  }
  if (!co_await Fill(5)) {
    if (stopping_) co_await Fail("57P01", "terminating connection: the server is shutting down");
    if (idle_expired_) {
      co_await Fail("25P03", "terminating connection due to idle-in-transaction timeout "
                             "(limits.idle_in_transaction_timeout_secs is " +
                                 std::to_string(services_.executor.session_limits().idle_in_transaction_timeout_secs) +
                                 "): the transaction was rolled back");
    }
    co_return false;
  }
  message.type = in_[in_pos_];
  const int32_t length = ReadInt32(in_.data() + in_pos_ + 1);
  if (length < 4) {
    co_await Fail("08P01", "invalid message length");
    co_return false;
  }
  const uint64_t size = static_cast<uint64_t>(length) - 4;
  if (size > services_.config.postgres_wire.max_message_bytes) {
    co_await Fail("54000", "message of " + std::to_string(size) + " bytes is larger than max_message_bytes (" +
                               std::to_string(services_.config.postgres_wire.max_message_bytes) + ")");
    co_return false;
  }
  if (!co_await Fill(5 + size)) co_return false;
  message.body.assign(in_, in_pos_ + 5, size);
  in_pos_ += 5 + size;
  co_return true;
}

void Connection::Cancel(int32_t process_id, int32_t secret) {
  if (process_id != process_id_ || secret != secret_) return;
  std::lock_guard lock(running_mutex_);
  if (running_ != nullptr) running_->Cancel(CancelReason::kClientRequest);
}

TxStatus Connection::TransactionStatus() const {
  switch (moved_ ? moved_state_ : session_.state()) {
    case sql::Session::State::kIdle: return TxStatus::kIdle;
    case sql::Session::State::kInTransaction: return TxStatus::kInTransaction;
    case sql::Session::State::kFailed: return TxStatus::kFailed;
  }
  return TxStatus::kIdle;
}

awaitable<void> Connection::Run(bool refuse) {
  asio::co_spawn(socket_.get_executor(), Watchdog(), asio::detached);
  co_await Serve(refuse);
  // A transaction moved to another node and still open there is given up there, off
  // the I/O thread.
  if (moved_) asio::post(services_.statements, [moved = std::shared_ptr<MovedTransaction>(std::move(moved_))] {});
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();  // the watchdog sees the socket closed and ends
}

// GCC 12 warns, wrongly, that this coroutine's frame is freed by a mismatched operator
// delete: the frame is allocated and freed by Asio's own pair.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
awaitable<void> Connection::Serve(bool refuse) {
  const auto& cfg = services_.config.postgres_wire;
  if (cfg.startup_timeout_secs > 0) SetDeadline(Clock::now() + std::chrono::seconds(cfg.startup_timeout_secs));
  Startup startup;
  if (!co_await ReadStartup(startup)) co_return;
  if (refuse) {
    co_await Fail("53300", "sorry, too many clients already (postgres_wire.max_connections is " +
                               std::to_string(cfg.max_connections) + ")");
    co_return;
  }
  if (!co_await Authenticate(startup)) co_return;
  settings_ = SessionSettings::AtStartup(startup.parameters);
  settings_.superuser = auth::IsAdmin(caller_.role);
  SetDeadline(Clock::time_point::max());

  AppendAuthentication(out_, 0);
  for (const auto& [name, value] : settings_.Reported()) AppendParameterStatus(out_, name, value);
  AppendBackendKeyData(out_, process_id_, secret_);
  AppendReadyForQuery(out_, TransactionStatus());
  bool skipping_to_sync = false;  // after an error in the extended protocol
  bool flush = true;
  while (!stopping_) {
    // Replies wait while the client's next message is already here (a pipeline), unless
    // they grow large or the client asked for them (Sync, Flush, Query).
    if ((flush || !MessageBuffered() || out_.size() > kFlushBytes) && !co_await Flush()) co_return;
    flush = false;
    Message message;
    // Inside a transaction, the wait for the next message is bounded: a transaction left
    // open holds its snapshot (and keeps compaction from reclaiming what it may read).
    const int64_t idle_limit = services_.executor.session_limits().idle_in_transaction_timeout_secs;
    idle_in_transaction_ = idle_limit > 0 && TransactionStatus() != TxStatus::kIdle;
    if (idle_in_transaction_) SetDeadline(Clock::now() + std::chrono::seconds(idle_limit));
    const bool read = co_await ReadMessage(message);
    if (idle_in_transaction_) {
      idle_in_transaction_ = false;
      SetDeadline(Clock::time_point::max());
    }
    if (!read) co_return;
    if (skipping_to_sync && message.type != 'S' && message.type != 'X') continue;
    Refusal refusal;
    switch (message.type) {
      case 'Q': {
        const std::optional<std::string_view> text = ReadQuery(message.body);
        if (!text) {
          co_await Fail("08P01", "invalid Query message");
          co_return;
        }
        prepared_.erase("");
        portals_.erase("");
        if (Status admitted = services_.rate_limiter.Admit(caller_.user_id); !admitted.ok()) {
          AppendError(out_, "ERROR", SqlState(admitted.code()), admitted.message());
        } else {
          const std::vector<std::string> statements = sql::SplitStatements(*text);
          std::vector<std::string> shapes;
          bool inline_run = !statements.empty();
          for (const std::string& statement : statements) {
            shapes.push_back(sql::StatementShape(statement));
            inline_run = inline_run && quick_.IsQuick(shapes.back());
          }
          if (moved_) inline_run = false;  // its statements wait for another node
          if (!inline_run) co_await asio::post(asio::bind_executor(services_.statements, use_awaitable));
          RunQuery(statements, shapes);
          if (!inline_run) co_await asio::post(asio::bind_executor(socket_.get_executor(), use_awaitable));
        }
        AppendReadyForQuery(out_, TransactionStatus());
        flush = true;
        break;
      }
      case 'X':  // Terminate
        co_return;
      case 'P':
        if (Parse(message.body, refusal)) MessageBuilder('1').AppendTo(out_);
        break;
      case 'B':
        if (Bind(message.body, refusal)) MessageBuilder('2').AppendTo(out_);
        break;
      case 'D':
        co_await Describe(message.body, refusal);
        break;
      case 'E':
        co_await Execute(message.body, refusal);
        break;
      case 'C':
        if (Close(message.body, refusal)) MessageBuilder('3').AppendTo(out_);
        break;
      case 'H':  // Flush
        flush = true;
        break;
      case 'S':  // Sync: the end of an extended-protocol exchange
        skipping_to_sync = false;
        if (TransactionStatus() == TxStatus::kIdle) portals_.clear();  // they end with their transaction
        AppendReadyForQuery(out_, TransactionStatus());
        flush = true;
        break;
      default:
        co_await Fail("08P01", std::string("invalid frontend message type ") +
                                   std::to_string(static_cast<unsigned char>(message.type)));
        co_return;
    }
    if (!refusal.sqlstate.empty()) {
      if (refusal.fatal) {
        co_await Fail(refusal.sqlstate, refusal.message);
        co_return;
      }
      AppendError(out_, "ERROR", refusal.sqlstate, refusal.message);
      skipping_to_sync = true;
    }
  }
}

#pragma GCC diagnostic pop

void Connection::RunQuery(const std::vector<std::string>& statements, const std::vector<std::string>& shapes) {
  if (statements.empty()) {
    AppendEmptyQueryResponse(out_);
    return;
  }
  for (size_t i = 0; i < statements.size(); ++i) {
    const std::string& statement = statements[i];
    const auto started = Clock::now();
    Result<Answer> answer = Run(statement, std::nullopt);
    quick_.Note(shapes[i], Clock::now() - started);
    if (!answer.ok()) {  // Postgres stops a Query message at its first error
      AppendError(out_, "ERROR", SqlState(answer.status().code()), answer.status().message());
      return;
    }
    if (answer->copy) {
      AppendCopyOut(out_, *answer->copy, *answer->rows);
      AppendCompletion(*answer, answer->tag);
      continue;
    }
    const Status sent = answer->rows ? answer->rows->AppendAll(out_, {}) : Status::Ok();
    if (!sent.ok()) {
      AppendError(out_, "ERROR", SqlState(sent.code()), sent.message());
      return;
    }
    AppendCompletion(*answer, answer->tag);
  }
}

void Connection::AppendCompletion(const Answer& answer, std::string_view tag) {
  if (!answer.notice.empty()) AppendNotice(out_, "01000", answer.notice);
  if (!answer.warning.empty()) AppendNotice(out_, answer.warning_sqlstate, answer.warning, "WARNING");
  for (const auto& [name, value] : answer.reported) AppendParameterStatus(out_, name, value);
  AppendCommandComplete(out_, tag);
}

Result<Connection::Answer> Connection::Run(const std::string& statement,
                                           std::optional<std::vector<sql::ParamValue>> params) {
  Answer answer;
  if (std::optional<Result<CopyOut>> copy = ParseCopy(statement)) {
    if (!copy->ok()) {
      KALAM_RETURN_IF_ERROR(BeforeStatement());  // not inside a failed transaction
      FailTransaction(copy->status());
      return copy->status();
    }
    Result<Answer> rows = Run((*copy)->select, std::move(params));
    if (!rows.ok()) return rows;
    if (!rows->rows) return Status(Code::kInvalidSql, "COPY (query) needs a query that returns rows");
    rows->tag = "COPY " + std::to_string(rows->rows->size());
    rows->copy = std::move(copy->value());
    return rows;
  }
  if (!params) {
    if (std::optional<LocalAnswer> local = AnswerLocally(statement, settings_)) {
      KALAM_RETURN_IF_ERROR(BeforeStatement());  // not inside a failed transaction
      if (!local->error.ok()) {
        FailTransaction(local->error);
        return local->error;
      }
      if (local->rows) {
        auto rows = ResultRows::Parse(*local->rows);
        if (!rows.ok()) return rows.status();
        answer.rows = std::move(rows).value();
      }
      answer.tag = std::move(local->tag);
      answer.reported = std::move(local->reported);
      answer.notice = std::move(local->notice);
      return answer;
    }
  }
  const sql::Session::State before = moved_ ? moved_state_ : session_.state();
  Cancellation cancellation;
  {
    std::lock_guard lock(running_mutex_);
    running_ = &cancellation;
  }
  // Spellings of psql's and the drivers' catalog queries the engine does not read.
  const std::string rewritten = RewritePostgresSyntax(statement);
  // Cluster mode: reads see every write acknowledged before them, through any node (a
  // shard led elsewhere is read once this node's replica has caught up with its leader).
  const bool clustered = services_.config.cluster.enabled();
  const query::ReadFreshness freshness = clustered ? query::ReadFreshness::kCaughtUp : query::ReadFreshness::kReplica;
  const std::optional<std::vector<sql::ParamValue>> bound_later = clustered ? params : std::nullopt;
  // The statement with its parameters bound, as another node is sent it.
  auto bound = [&]() -> Result<std::string> {
    return bound_later ? sql::BindParams(rewritten, *bound_later) : Result<std::string>(rewritten);
  };
  sql::BatchResult batch;
  if (moved_) {
    Result<std::string> text = bound();
    if (text.ok()) {
      batch = RunMoved(*text);
    } else {
      batch.error = text.status();
    }
  } else {
    // Whether the transaction open here wrote anything before this statement.
    const bool wrote = session_.transaction() != nullptr && !session_.transaction()->empty();
    sql::BatchRequest request{.sql = rewritten,
                              .params = std::move(params),
                              .default_namespace = settings_.namespace_id,
                              .cancellation = &cancellation,
                              .freshness = freshness};
    batch = services_.executor.Execute(caller_, request, session_);
    const bool single = !batch.error.ok() && batch.results.empty() && clustered &&
                        sql::SplitStatements(rewritten).size() == 1;
    if (single && services_.send_on && before == sql::Session::State::kIdle &&
        session_.state() == sql::Session::State::kIdle) {
      // A statement on its own, outside a transaction, that another node's shard must
      // take: sent on to that node's leader, its answer this one's.
      if (Result<std::string> text = bound(); text.ok()) {
        if (auto sent = services_.send_on(batch.error, caller_, *text, settings_.namespace_id)) {
          if (sent->ok()) {
            batch.error = Status::Ok();
            batch.results.push_back(std::move(*sent).value());
          } else {
            batch.error = sent->status();
          }
        }
      }
    } else if (single && !wrote && before == sql::Session::State::kInTransaction) {
      // Inside a transaction that wrote nothing yet: the transaction moves there.
      if (Result<std::string> text = bound(); text.ok()) {
        if (std::optional<sql::BatchResult> moved = MoveTransaction(batch.error, *text)) batch = std::move(*moved);
      }
    }
    if (clustered && !moved_) {
      // What a transaction that wrote nothing yet ran, in case it moves.
      const bool keep = batch.error.ok() && session_.transaction() != nullptr && session_.transaction()->empty();
      Result<std::string> text = keep ? bound() : Result<std::string>(std::string());
      if (keep && text.ok()) {
        NoteRan(*text, before, batch);
      } else {
        ran_.clear();
      }
    }
  }
  {
    std::lock_guard lock(running_mutex_);
    running_ = nullptr;
  }
  if (!batch.error.ok()) {
    // COMMIT of a failed transaction ends it as ROLLBACK, as in Postgres.
    if (before == sql::Session::State::kFailed && batch.error.code() == Code::kTransactionAborted &&
        CommandTag(statement, 0, false) == "COMMIT") {
      answer.tag = "ROLLBACK";
      return answer;
    }
    return batch.error;
  }
  uint64_t count = 0;
  bool returned_rows = false;
  if (!batch.results.empty()) {
    sql::StatementResult& result = batch.results.back();
    if (result.rows) {
      auto rows = ResultRows::Parse(*result.rows);
      if (!rows.ok()) return rows.status();
      count = rows->size();
      returned_rows = true;
      answer.rows = std::move(rows).value();
      if (result.rows->truncated) {
        answer.warning_sqlstate = "01000";
        answer.warning = "the result was cut off after " + std::to_string(count) +
                         " rows ([limits] max_result_rows)";
      }
    } else if (result.message.starts_with(kSubscriptionHandOff)) {
      // SUBSCRIBE TO: where and how to subscribe over the WebSocket, as a one-row result.
      auto rows = ResultRows::Parse({R"([{"name":"subscription","data_type":"Json"}])", "[[" + result.message + "]]", 1});
      if (!rows.ok()) return rows.status();
      count = 1;
      returned_rows = true;
      answer.rows = std::move(rows).value();
    } else {
      count = result.row_count;
    }
  }
  answer.tag = CommandTag(statement, count, returned_rows);
  // Where Postgres warns about transaction statements that change nothing.
  if (answer.tag == "BEGIN" && before != sql::Session::State::kIdle) {
    answer.warning_sqlstate = "25001";
    answer.warning = "there is already a transaction in progress";
  } else if ((answer.tag == "COMMIT" || answer.tag == "ROLLBACK") && before == sql::Session::State::kIdle) {
    answer.warning_sqlstate = "25P01";
    answer.warning = "there is no transaction in progress";
  }
  return answer;
}

Status Connection::BeforeStatement() {
  if (!moved_) return session_.BeforeStatement();
  if (moved_state_ == sql::Session::State::kFailed) {
    return Status(Code::kTransactionAborted,
                  "The transaction was aborted by an earlier error: statements are refused until ROLLBACK");
  }
  return Status::Ok();
}

void Connection::FailTransaction(const Status& why) {
  if (!moved_) {
    session_.Fail(why);
  } else if (moved_state_ != sql::Session::State::kIdle) {
    moved_state_ = sql::Session::State::kFailed;
    moved_failed_here_ = true;
  }
}

namespace {

// A digest of a result's rows that does not depend on their order (a query without ORDER
// BY may list them in another order on another node): the rows, each as canonical JSON,
// sorted. nullopt for rows that are not a JSON array of rows.
std::optional<uint64_t> RowsDigest(const std::string& rows_json) {
  boost::system::error_code ec;
  const boost::json::value rows = boost::json::parse(rows_json, ec);
  if (ec || !rows.is_array()) return std::nullopt;
  std::vector<std::string> each;
  each.reserve(rows.as_array().size());
  for (const boost::json::value& row : rows.as_array()) each.push_back(boost::json::serialize(row));
  std::sort(each.begin(), each.end());
  uint64_t digest = 1469598103934665603ull;  // FNV-1a over the rows, each ended by a newline
  for (const std::string& row : each) {
    for (const unsigned char c : row) digest = (digest ^ c) * 1099511628211ull;
    digest = (digest ^ '\n') * 1099511628211ull;
  }
  return digest;
}

std::optional<uint64_t> DigestOf(const sql::StatementResult& result) {
  return result.rows ? RowsDigest(result.rows->rows_json) : std::nullopt;
}

bool EndsTransaction(const std::string& statement) {
  const std::string tag = CommandTag(statement, 0, false);
  return tag == "COMMIT" || tag == "ROLLBACK";
}

}  // namespace

void Connection::NoteRan(const std::string& statement, sql::Session::State before, const sql::BatchResult& batch) {
  if (before == sql::Session::State::kIdle) {
    ran_.clear();  // the BEGIN
  } else if (ran_.size() >= kMaxRan) {
    ran_.clear();  // too long to replay: this transaction stays here (its BEGIN is gone)
    return;
  }
  Ran ran{{statement, settings_.namespace_id}, std::nullopt};
  if (!batch.results.empty()) ran.rows_digest = DigestOf(batch.results.back());
  ran_.push_back(std::move(ran));
}

std::optional<sql::BatchResult> Connection::MoveTransaction(const Status& refusal, const std::string& statement) {
  std::vector<Ran> ran = std::move(ran_);
  ran_.clear();
  if (ran.empty() || CommandTag(ran.front().statement.sql, 0, false) != "BEGIN" || !services_.move_transaction) {
    return std::nullopt;
  }
  std::unique_ptr<MovedTransaction> moved = services_.move_transaction(refusal, caller_);
  if (!moved) return std::nullopt;
  std::vector<MovedTransaction::Statement> statements;
  for (const Ran& r : ran) statements.push_back(r.statement);
  statements.push_back({statement, settings_.namespace_id});
  Result<MovedTransaction::Answer> answer = moved->Run(statements);
  if (!answer.ok()) {
    spdlog::warn("cluster: a transaction could not move to node '{}': {}", moved->node(), answer.status().message());
    return std::nullopt;  // the refusal stands (the client retries)
  }
  // What ran here must run alike there: else the refusal stands, or, when rows read here
  // are not those there, the transaction's snapshot can't move with it.
  if (answer->results.size() < ran.size()) return std::nullopt;
  sql::BatchResult batch;
  for (size_t i = 0; i < ran.size(); ++i) {
    if (ran[i].rows_digest && DigestOf(answer->results[i]) != ran[i].rows_digest) {
      batch.error = Status(Code::kTransactionConflict,
                           "rows this transaction read changed before its write moved it to node '" + moved->node() +
                               "', which leads the shard it writes: retry the transaction");
      return batch;  // its session there ends with moved
    }
  }
  session_.End();  // here it wrote nothing; it goes on there
  if (answer->results.size() > ran.size()) batch.results.push_back(std::move(answer->results.back()));
  batch.error = answer->error;
  moved_state_ = answer->state;
  moved_failed_here_ = false;
  if (moved_state_ != sql::Session::State::kIdle) moved_ = std::move(moved);
  return batch;
}

sql::BatchResult Connection::RunMoved(const std::string& statement) {
  sql::BatchResult batch;
  if (moved_failed_here_) {
    // Failed here: only its end is taken, and it ends in a ROLLBACK (there too).
    if (EndsTransaction(statement)) {
      moved_.reset();
      moved_state_ = sql::Session::State::kIdle;
      moved_failed_here_ = false;
      // COMMIT answers as in any failed transaction (ROLLBACK); ROLLBACK succeeds.
      if (CommandTag(statement, 0, false) == "COMMIT") {
        batch.error = Status(Code::kTransactionAborted, "The transaction was aborted by an earlier error");
      } else {
        batch.results.push_back({});
      }
      return batch;
    }
    batch.error = BeforeStatement();
    return batch;
  }
  Result<MovedTransaction::Answer> answer = moved_->Run({{statement, settings_.namespace_id}});
  if (!answer.ok()) {
    if (EndsTransaction(statement)) {
      moved_.reset();
      moved_state_ = sql::Session::State::kIdle;
      batch.error = Status(answer.status().code(),
                           answer.status().message() + " (whether the transaction ended there is not known)");
    } else {
      FailTransaction(answer.status());
      batch.error = answer.status();
    }
    return batch;
  }
  batch.results = std::move(answer->results);
  batch.error = answer->error;
  moved_state_ = answer->state;
  if (moved_state_ == sql::Session::State::kIdle) moved_.reset();  // it ended there
  return batch;
}

namespace {

Connection::Refusal Refuse(const Status& error) {
  return {std::string(SqlState(error.code())), error.message()};
}

}  // namespace

bool Connection::Parse(std::string_view body, Refusal& refusal) {
  std::optional<ParseMessage> message = ReadParse(body);
  if (!message) {
    refusal = {"08P01", "invalid Parse message", true};
    return false;
  }
  const std::string name(message->name);
  if (!name.empty() && prepared_.contains(name)) {
    refusal = {"42P05", "prepared statement \"" + name + "\" already exists"};
    return false;
  }
  const std::vector<std::string> statements = sql::SplitStatements(message->query);
  if (statements.size() > 1) {
    refusal = {"42601", "cannot insert multiple commands into a prepared statement"};
    return false;
  }
  auto prepared = std::make_shared<Prepared>();
  if (!statements.empty()) prepared->sql = statements[0];
  std::vector<int32_t> types = std::move(message->param_types);
  types.resize(std::max(types.size(), sql::HighestParam(prepared->sql)), oid::kUnspecified);
  prepared->param_types = std::move(types);
  prepared_[name] = std::move(prepared);
  return true;
}

bool Connection::Bind(std::string_view body, Refusal& refusal) {
  std::optional<BindMessage> message = ReadBind(body);
  if (!message) {
    refusal = {"08P01", "invalid Bind message", true};
    return false;
  }
  const std::string portal_name(message->portal);
  const std::string statement_name(message->statement);
  const std::vector<int16_t>& param_formats = message->param_formats;
  const std::vector<std::optional<std::string_view>>& values = message->values;
  auto statement = prepared_.find(statement_name);
  if (statement == prepared_.end()) {
    refusal = {"26000", "prepared statement \"" + statement_name + "\" does not exist"};
    return false;
  }
  const std::vector<int32_t>& types = statement->second->param_types;
  if (values.size() != types.size()) {
    refusal = {"08P01", "bind message supplies " + std::to_string(values.size()) +
                            " parameters, but prepared statement \"" + statement_name + "\" requires " +
                            std::to_string(types.size())};
    return false;
  }
  if (param_formats.size() > 1 && param_formats.size() != values.size()) {
    refusal = {"08P01", "bind message has " + std::to_string(param_formats.size()) + " parameter formats but " +
                            std::to_string(values.size()) + " parameters"};
    return false;
  }
  for (const int16_t f : message->result_formats) {
    if (f != kTextFormat && f != kBinaryFormat) {
      refusal = {"22023", "unsupported format code: " + std::to_string(f)};
      return false;
    }
  }
  if (!portal_name.empty() && portals_.contains(portal_name)) {
    refusal = {"42P03", "portal \"" + portal_name + "\" already exists"};
    return false;
  }
  Portal portal;
  portal.statement = statement->second;
  for (size_t i = 0; i < values.size(); ++i) {
    Result<sql::ParamValue> value = DecodeParam(types[i], FormatOf(param_formats, i), values[i], i + 1);
    if (!value.ok()) {
      refusal = value.status().code() == Code::kInvalidParameter
                    ? Refusal{"22P02", value.status().message()}  // invalid_text_representation
                    : Refuse(value.status());
      return false;
    }
    portal.params.push_back(std::move(value).value());
  }
  portal.result_formats = std::move(message->result_formats);
  portals_[portal_name] = std::move(portal);
  return true;
}

awaitable<void> Connection::RunPortal(Portal& portal, Refusal& refusal) {
  if (portal.answer) co_return;
  const Prepared& statement = *portal.statement;
  if (statement.sql.empty()) {
    portal.answer = Answer{};  // the empty query
    co_return;
  }
  if (Status admitted = services_.rate_limiter.Admit(caller_.user_id); !admitted.ok()) {
    refusal = Refuse(admitted);
    co_return;
  }
  std::optional<std::vector<sql::ParamValue>> params;
  if (!portal.params.empty()) params = portal.params;
  // A statement that has answered quickly every time lately runs right here, on the
  // connection's I/O thread: handing it to the statement pool and back would cost two
  // thread wake-ups, more than the statement itself. Any slow run sends it back to the pool.
  const bool inline_run = quick_.IsQuick(statement.sql) && !moved_;  // a moved transaction waits for another node
  if (!inline_run) co_await asio::post(asio::bind_executor(services_.statements, use_awaitable));
  const auto started = Clock::now();
  Result<Answer> answer = Run(statement.sql, std::move(params));
  const auto took = Clock::now() - started;
  if (!inline_run) co_await asio::post(asio::bind_executor(socket_.get_executor(), use_awaitable));
  quick_.Note(statement.sql, took);
  if (!answer.ok()) {
    refusal = Refuse(answer.status());
    co_return;
  }
  portal.answer = std::move(answer).value();
}

bool Connection::AppendDescription(const std::optional<ResultRows>& rows, const std::vector<int16_t>& formats,
                                   Refusal& refusal) {
  if (!rows) {
    MessageBuilder('n').AppendTo(out_);  // NoData
    return true;
  }
  if (formats.size() > 1 && formats.size() != rows->columns().size()) {
    refusal = {"08P01", "bind message has " + std::to_string(formats.size()) + " result formats but query has " +
                            std::to_string(rows->columns().size()) + " columns"};
    return false;
  }
  rows->AppendDescription(out_, formats);
  return true;
}

awaitable<void> Connection::Describe(std::string body, Refusal& refusal) {
  const std::optional<TargetMessage> target = ReadTarget(body);
  if (!target) {
    refusal = {"08P01", "invalid Describe message", true};
    co_return;
  }
  const std::string name(target->name);
  if (target->kind == 'P') {
    auto portal = portals_.find(name);
    if (portal == portals_.end()) {
      refusal = {"34000", "portal \"" + name + "\" does not exist"};
      co_return;
    }
    co_await RunPortal(portal->second, refusal);
    if (refusal.sqlstate.empty()) {
      const Answer& answer = *portal->second.answer;
      AppendDescription(answer.copy ? std::nullopt : answer.rows, portal->second.result_formats, refusal);
    }
    if (!refusal.sqlstate.empty()) portals_.erase(name);
    co_return;
  }
  auto found = prepared_.find(name);
  if (found == prepared_.end()) {
    refusal = {"26000", "prepared statement \"" + name + "\" does not exist"};
    co_return;
  }
  const std::shared_ptr<const Prepared> statement = found->second;
  MessageBuilder parameters('t');
  parameters.Int16(static_cast<int16_t>(statement->param_types.size()));
  for (const int32_t type : statement->param_types) {
    parameters.Int32(type == oid::kUnspecified ? oid::kText : type);  // unknown: sent as text
  }
  parameters.AppendTo(out_);
  co_await asio::post(asio::bind_executor(services_.statements, use_awaitable));
  Result<std::optional<ResultRows>> rows = DescribeStatement(*statement);
  co_await asio::post(asio::bind_executor(socket_.get_executor(), use_awaitable));
  if (!rows.ok()) {
    refusal = Refuse(rows.status());
    co_return;
  }
  AppendDescription(*rows, {}, refusal);
}

// The rows a statement would return, without running it for real: a query runs with its
// parameters NULL under LIMIT 0; SHOW runs (it reads only); anything else returns none.
Result<std::optional<ResultRows>> Connection::DescribeStatement(const Prepared& statement) {
  const std::vector<std::string> words = LeadingWords(statement.sql, 1);
  const std::string first = words.empty() ? std::string() : words[0];
  std::optional<std::vector<sql::ParamValue>> nulls;
  if (!statement.param_types.empty()) nulls.emplace(statement.param_types.size(), std::monostate{});
  if (!nulls) {
    SessionSettings scratch = settings_;  // a local answer must not change the session here
    if (std::optional<LocalAnswer> local = AnswerLocally(statement.sql, scratch)) {
      if (!local->error.ok()) return local->error;
      if (!local->rows) return std::optional<ResultRows>();
      auto rows = ResultRows::Parse(*local->rows);
      if (!rows.ok()) return rows.status();
      return std::optional<ResultRows>(std::move(rows).value());
    }
  }
  std::string probe;
  if (first == "SELECT" || first == "WITH" || first == "VALUES" || first == "TABLE") {
    probe = "SELECT * FROM (" + statement.sql + ") AS described LIMIT 0";
  } else if (first == "SHOW") {
    probe = statement.sql;
  } else {
    return std::optional<ResultRows>();
  }
  Result<Answer> answer = Run(probe, std::move(nulls));
  if (!answer.ok()) return answer.status();
  return std::move(answer->rows);
}

awaitable<void> Connection::Execute(std::string body, Refusal& refusal) {
  const std::optional<ExecuteMessage> message = ReadExecute(body);
  if (!message) {
    refusal = {"08P01", "invalid Execute message", true};
    co_return;
  }
  const std::string name(message->portal);
  const int32_t max_rows = message->max_rows;
  auto found = portals_.find(name);
  if (found == portals_.end()) {
    refusal = {"34000", "portal \"" + name + "\" does not exist"};
    co_return;
  }
  Portal& portal = found->second;
  co_await RunPortal(portal, refusal);
  if (!refusal.sqlstate.empty()) {
    portals_.erase(name);
    co_return;
  }
  const Answer& answer = *portal.answer;
  if (!answer.rows) {
    if (answer.tag.empty()) {
      AppendEmptyQueryResponse(out_);
    } else {
      AppendCompletion(answer, answer.tag);
    }
    co_return;
  }
  if (answer.copy) {
    AppendCopyOut(out_, *answer.copy, *answer.rows);
    AppendCompletion(answer, answer.tag);
    co_return;
  }
  const ResultRows& rows = *answer.rows;
  if (portal.result_formats.size() > 1 && portal.result_formats.size() != rows.columns().size()) {
    AppendDescription(answer.rows, portal.result_formats, refusal);  // says why
    co_return;
  }
  const size_t first = portal.sent;
  const size_t end = max_rows > 0 ? std::min(rows.size(), first + static_cast<size_t>(max_rows)) : rows.size();
  for (size_t i = first; i < end; ++i) {
    if (Status sent = rows.AppendRow(out_, i, portal.result_formats); !sent.ok()) {
      refusal = Refuse(sent);
      co_return;
    }
  }
  portal.sent = end;
  if (end < rows.size()) {
    MessageBuilder('s').AppendTo(out_);  // PortalSuspended: Execute again for more
    co_return;
  }
  AppendCompletion(answer, first == 0 ? answer.tag : CommandTag(portal.statement->sql, end - first, true));
}

bool Connection::Close(std::string_view body, Refusal& refusal) {
  const std::optional<TargetMessage> target = ReadTarget(body);
  if (!target) {
    refusal = {"08P01", "invalid Close message", true};
    return false;
  }
  const std::string name(target->name);
  if (target->kind == 'S') {
    prepared_.erase(name);  // closing what does not exist is no error
  } else {
    portals_.erase(name);
  }
  return true;
}

}  // namespace kalam::pgwire
