#include "pgwire/connection.h"

#include <spdlog/spdlog.h>

#include <random>

#include "auth/authenticator.h"
#include "auth/password_pool.h"
#include "auth/peer.h"
#include "auth/rate_limiter.h"
#include "pgwire/command_tag.h"
#include "pgwire/postgres_syntax.h"
#include "pgwire/results.h"
#include "sql/executor.h"
#include "sql/splitter.h"

namespace kalam::pgwire {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kDrainTime = std::chrono::seconds(2);

int32_t RandomSecret() {
  static thread_local std::mt19937 random{std::random_device{}()};
  return static_cast<int32_t>(random());
}

}  // namespace

Connection::Connection(Socket socket, Services services, int32_t process_id,
                       const std::atomic<bool>& stopping)
    : socket_(std::move(socket)),
      services_(services),
      process_id_(process_id),
      stopping_(stopping),
      peer_(auth::PeerOf(socket_)),
      timer_(socket_.get_executor()),
      session_(services.executor.session_limits()) {}

void Connection::SetDeadline(Clock::time_point deadline) {
  deadline_ = deadline;
  timer_.expires_at(deadline);  // wakes the watchdog, which waits again for the new one
}

// Closes the socket once the deadline passes: a pending read or write then fails.
awaitable<void> Connection::Watchdog() {
  auto self = shared_from_this();
  while (socket_.is_open()) {
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(use_awaitable));
    if (!socket_.is_open()) break;
    if (!ec && Clock::now() >= deadline_) {
      boost::system::error_code ignored;
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
    if (code == kCancelRequest) co_return false;  // not supported yet: no answer is sent
    if ((code >> 16) != 3) {
      co_await Fail("0A000", "unsupported frontend protocol " + std::to_string(code >> 16) + "." +
                                 std::to_string(code & 0xffff) + ": the server supports 3.0");
      co_return false;
    }
    BodyReader reader(body);
    while (reader.ok() && !reader.at_end()) {
      const std::string_view name = reader.CString();
      if (name.empty()) break;  // the terminating NUL
      const std::string_view value = reader.CString();
      if (name.starts_with("_pq_.")) continue;  // protocol options: none known
      startup.parameters.emplace(name, value);
    }
    if (!reader.ok()) {
      co_await Fail("08P01", "invalid startup packet layout");
      co_return false;
    }
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
  std::string password;
  if (services_.authenticator.NeedsPassword(username, peer_)) {
    AppendAuthentication(out_, 3);  // AuthenticationCleartextPassword
    if (!co_await Flush()) co_return false;
    Message message;
    if (!co_await ReadMessage(message)) co_return false;
    if (message.type != 'p') {
      co_await Fail("08P01", "expected a password message");
      co_return false;
    }
    BodyReader reader(message.body);
    password = std::string(reader.CString());
    if (!reader.ok()) {
      co_await Fail("08P01", "invalid password message");
      co_return false;
    }
  }
  Result<auth::Caller> caller = co_await services_.passwords.Run(
      [this, &username, &password] { return services_.authenticator.SignIn(username, password, peer_); });
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

awaitable<bool> Connection::ReadMessage(Message& message) {
  std::string header;
  waiting_for_message_ = true;
  const bool read = co_await ReadExactly(header, 5);
  waiting_for_message_ = false;
  if (!read) {
    if (stopping_) co_await Fail("57P01", "terminating connection: the server is shutting down");
    co_return false;
  }
  message.type = header[0];
  const int32_t length = ReadInt32(header.data() + 1);
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
  co_return co_await ReadExactly(message.body, size);
}

TxStatus Connection::TransactionStatus() const {
  switch (session_.state()) {
    case sql::Session::State::kIdle: return TxStatus::kIdle;
    case sql::Session::State::kInTransaction: return TxStatus::kInTransaction;
    case sql::Session::State::kFailed: return TxStatus::kFailed;
  }
  return TxStatus::kIdle;
}

awaitable<void> Connection::Run(bool refuse) {
  asio::co_spawn(socket_.get_executor(), Watchdog(), asio::detached);
  co_await Serve(refuse);
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();  // the watchdog sees the socket closed and ends
}

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
  AppendBackendKeyData(out_, process_id_, RandomSecret());
  AppendReadyForQuery(out_, TransactionStatus());
  bool skipping_to_sync = false;  // after an error in the extended protocol
  while (co_await Flush() && !stopping_) {
    Message message;
    if (!co_await ReadMessage(message)) co_return;
    switch (message.type) {
      case 'Q': {
        BodyReader reader(message.body);
        const std::string_view text = reader.CString();
        if (!reader.ok()) {
          co_await Fail("08P01", "invalid Query message");
          co_return;
        }
        if (Status admitted = services_.rate_limiter.Admit(caller_.user_id); !admitted.ok()) {
          AppendError(out_, "ERROR", SqlState(admitted.code()), admitted.message());
        } else {
          co_await asio::post(asio::bind_executor(services_.statements, use_awaitable));
          RunQuery(text);
          co_await asio::post(asio::bind_executor(socket_.get_executor(), use_awaitable));
        }
        AppendReadyForQuery(out_, TransactionStatus());
        break;
      }
      case 'X':  // Terminate
        co_return;
      case 'P': case 'B': case 'D': case 'E': case 'C':
        if (!skipping_to_sync) {
          AppendError(out_, "ERROR", "0A000",
                      "the extended query protocol is not supported yet: use the simple query protocol");
          skipping_to_sync = true;
        }
        break;
      case 'H':  // Flush
        break;
      case 'S':  // Sync
        skipping_to_sync = false;
        AppendReadyForQuery(out_, TransactionStatus());
        break;
      default:
        co_await Fail("08P01", std::string("invalid frontend message type ") +
                                   std::to_string(static_cast<unsigned char>(message.type)));
        co_return;
    }
  }
}

void Connection::RunQuery(std::string_view text) {
  const std::vector<std::string> statements = sql::SplitStatements(text);
  if (statements.empty()) {
    AppendEmptyQueryResponse(out_);
    return;
  }
  for (const std::string& statement : statements) {
    if (!RunStatement(statement)) break;  // Postgres stops a Query message at its first error
  }
}

bool Connection::RunStatement(const std::string& statement) {
  auto fail = [this](const Status& error) {
    AppendError(out_, "ERROR", SqlState(error.code()), error.message());
    return false;
  };
  if (std::optional<LocalAnswer> local = AnswerLocally(statement, settings_)) {
    const Status refused = session_.BeforeStatement();  // not inside a failed transaction
    if (!refused.ok()) return fail(refused);
    if (!local->error.ok()) {
      session_.Fail(local->error);
      return fail(local->error);
    }
    if (!local->notice.empty()) AppendNotice(out_, "01000", local->notice);
    if (local->rows) {
      const Status encoded = AppendRows(out_, *local->rows);
      if (!encoded.ok()) return fail(encoded);
    }
    for (const auto& [name, value] : local->reported) AppendParameterStatus(out_, name, value);
    AppendCommandComplete(out_, local->tag);
    return true;
  }
  const sql::Session::State before = session_.state();
  sql::BatchRequest request{.sql = RewritePostgresSyntax(statement), .params = std::nullopt, .default_namespace = settings_.namespace_id};
  sql::BatchResult batch = services_.executor.Execute(caller_, request, session_);
  if (!batch.error.ok()) {
    // COMMIT of a failed transaction ends it as ROLLBACK, as in Postgres.
    if (before == sql::Session::State::kFailed && batch.error.code() == Code::kTransactionAborted &&
        CommandTag(statement, 0, false) == "COMMIT") {
      AppendCommandComplete(out_, "ROLLBACK");
      return true;
    }
    return fail(batch.error);
  }
  for (const sql::StatementResult& result : batch.results) {
    if (result.rows) {
      const Status encoded = AppendRows(out_, *result.rows);
      if (!encoded.ok()) return fail(encoded);
    }
    const uint64_t count = result.rows ? result.rows->row_count : result.row_count;
    AppendCommandComplete(out_, CommandTag(statement, count, result.rows.has_value()));
  }
  return true;
}

}  // namespace kalam::pgwire
