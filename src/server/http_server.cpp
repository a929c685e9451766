#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "common/accept_loop.h"
#include "common/log_throttle.h"
#include "pgwire/listener.h"
#include "server/app.h"
#include "auth/password_pool.h"
#include "auth/peer.h"
#include "server/request_body.h"
#include "server/routes.h"
#include "server/ws_connection.h"
#include "sql/quick_statements.h"

namespace kalam::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kShutdownDeadline = std::chrono::seconds(30);
// Query pool threads per I/O thread. With durable commits many of them wait rather than
// work: a commit waits for its group's fsync on its thread, so the pool's size bounds how
// many commits share one fsync (4 threads: ~3.6k durable single-row INSERTs/s at 16
// clients; 16 threads: ~6.7k). Without, statements keep their threads busy and more
// threads only switch more (16 threads: 10% fewer single-row INSERTs/s than 4). The
// engine's own connections (two per core) bound how many engine queries run either way.
// In cluster mode a commit waits for its shard's log (two nodes' fsyncs) in the same way,
// and a write sent on to its shard's leader waits for the answer on its thread.
constexpr int kQueryThreadsPerIoThread = 2;
constexpr int kQueryThreadsPerIoThreadDurable = 8;

class Server;

size_t QueryThreads(const App& app, int io_threads) {
  const bool durable = app.config().storage.sync_writes || app.config().cluster.enabled();
  return static_cast<size_t>(
      std::max(2, io_threads * (durable ? kQueryThreadsPerIoThreadDurable : kQueryThreadsPerIoThread)));
}

// One I/O thread's connections: their context, and which SQL shapes answered quickly there
// lately (used on that thread only).
struct IoThread {
  asio::io_context context{1};
  sql::QuickStatements quick;
};

// A request running on the query pool, watched for its client going away.
struct ClientWatch {
  Cancellation gone;      // set when the client closed its connection
  bool finished = false;  // the request has its answer; on the session's strand only
};

// One connection. Idle sessions are closed on shutdown; a busy one finishes its request.
struct Session {
  beast::tcp_stream stream;
  IoThread& thread;  // the one stream runs on
  bool busy = false;  // guarded by Server::sessions_mutex_
  bool websocket = false;  // guarded by Server::sessions_mutex_
  std::weak_ptr<WsConnection> ws;  // set once the connection is a WebSocket
  // While a topic consume waits for messages: cancelled to end the wait early (an append
  // wakes it; so do the client going away and shutdown). On the session's strand.
  std::shared_ptr<asio::steady_timer> poll_timer;
  Session(tcp::socket socket, IoThread& io_thread) : stream(std::move(socket)), thread(io_thread) {}
};

class Server final : public HttpServer {
 public:
  Server(App& app, int io_threads)
      : app_(app),
        io_(1),
        query_pool_(QueryThreads(app, io_threads)),
        password_pool_(static_cast<size_t>(app.config().auth.password_check_threads),
                       static_cast<size_t>(app.config().auth.password_check_queue)),
        acceptor_(io_),
        signals_(io_, SIGINT, SIGTERM),
        routes_(app, QueryThreads(app, io_threads) / 2) {
    // Connections live on I/O contexts of one thread each, spread round robin: a request's
    // read, its quick statement and its reply never hand over between threads (on a context
    // shared by several threads each completion may wake another one). io_ itself accepts
    // and watches for signals and the shutdown deadline.
    for (int i = 0; i < io_threads; ++i) {
      io_threads_.push_back(std::make_unique<IoThread>());
      guards_.push_back(asio::make_work_guard(io_threads_.back()->context));
    }
  }

  Status Listen() {
    const auto& cfg = app_.config().server;
    KALAM_RETURN_IF_ERROR(kalam::Listen(acceptor_, cfg.host, cfg.port, "server.host"));
    if (app_.config().postgres_wire.enabled) {
      auto pg = pgwire::Listener::Bind(
          io_, {app_.executor(), app_.authenticator(), password_pool_, app_.rate_limiter(), query_pool_,
                app_.config(), app_.metrics().postgres_connections,
                [app = &app_](const Status& refusal, const auth::Caller& caller, const std::string& sql,
                              const std::string& namespace_id) {
                  return app->SendStatementOn(refusal, caller, sql, namespace_id);
                },
                [app = &app_](const Status& refusal, const auth::Caller& caller) {
                  return app->MoveTransaction(refusal, caller);
                }});
      if (!pg.ok()) return pg.status();
      pg_ = std::move(pg).value();
      pg_drained_ = false;
      spdlog::info("Postgres wire protocol on {}:{}",
                   app_.config().postgres_wire.host.empty() ? cfg.host : app_.config().postgres_wire.host,
                   pg_->port());
    }
    return Status::Ok();
  }

  uint16_t port() const override { return acceptor_.local_endpoint().port(); }

  void Run() override {
    signals_.async_wait([this](beast::error_code ec, int signal) {
      if (!ec) {
        spdlog::info("received signal {}: shutting down", signal);
        BeginShutdown();
      }
    });
    asio::co_spawn(io_, AcceptLoop(acceptor_, "http", [this](tcp::socket socket) { Accept(std::move(socket)); }),
                   asio::detached);
    if (pg_) pg_->Start();
    std::vector<std::thread> threads;
    for (auto& t : io_threads_) threads.emplace_back([&t] { t->context.run(); });
    io_.run();
    guards_.clear();
    for (auto& t : io_threads_) t->context.stop();  // past the deadline: what still runs ends
    for (auto& t : threads) t.join();
    if (pg_) pg_->Stop();
    query_pool_.join();
    password_pool_.join();
  }

 private:
  void Accept(tcp::socket accepted) {
    IoThread& thread = *io_threads_[next_thread_++ % io_threads_.size()];
    beast::error_code ec;
    const auto protocol = accepted.local_endpoint(ec).protocol();
    if (ec) return;  // the client is gone already
    auto session = std::make_shared<Session>(tcp::socket(thread.context, protocol, accepted.release()), thread);
    const int64_t cap = app_.config().server.max_connections;
    {
      std::lock_guard lock(sessions_mutex_);
      if (cap > 0 && static_cast<int64_t>(sessions_.size()) >= cap) {
        asio::co_spawn(session->stream.get_executor(), Refuse(session), asio::detached);
        return;
      }
      sessions_.insert(session.get());
    }
    ++app_.metrics().http_connections;
    asio::co_spawn(session->stream.get_executor(), Serve(session), asio::detached);
  }

  // A connection past server.max_connections: told why (503 SERVICE_UNAVAILABLE), then
  // closed, without reading its request.
  awaitable<void> Refuse(std::shared_ptr<Session> session) {
    if (auto held_back = refused_.Allow()) {
      spdlog::warn("refusing a connection: {} connections are open (server.max_connections){}",
                   app_.config().server.max_connections,
                   *held_back > 0 ? fmt::format(" ({} more refused since the last report)", *held_back)
                                  : std::string());
    }
    co_await Write(*session, routes_.Error(Code::kServiceUnavailable,
                                           "The server has too many open connections: try again later",
                                           11, false));
    // Reading what the client sent before closing keeps the close from resetting the
    // connection before the refusal is read; a few refusals at a time only, since each holds
    // a descriptor while it drains.
    if (refusals_draining_.fetch_add(1) < kMaxRefusalsDraining) co_await Drain(*session);
    --refusals_draining_;
    session->stream.close();
  }

  awaitable<void> Serve(std::shared_ptr<Session> session) {
    beast::flat_buffer buffer;
    const auth::Peer peer = auth::PeerOf(session->stream.socket());
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(app_.config().limits.max_request_bytes);
      parser.header_limit(64 * 1024);
      session->stream.expires_after(kIdleTimeout);
      auto [ec, bytes] =
          co_await http::async_read(session->stream, buffer, parser, asio::as_tuple(use_awaitable));
      (void)bytes;
      if (ec) {
        if (ec == http::error::body_limit) {
          co_await Write(*session, routes_.Error(Code::kPayloadTooLarge,
                                                 "The request body is larger than " +
                                                     std::to_string(app_.config().limits.max_request_bytes) +
                                                     " bytes",
                                                 11, false));
          co_await Drain(*session);
        } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                   ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
                   ec != asio::error::eof && buffer.size() > 0) {
          co_await Write(*session,
                         routes_.Error(Code::kInvalidInput, "Malformed HTTP request", 11, false));
        }
        break;
      }
      if (!SetBusy(*session, true)) break;
      http::request<http::string_body> request = parser.release();
      const std::string_view path(request.target().data(),
                                  request.target().find('?') == beast::string_view::npos
                                      ? request.target().size()
                                      : request.target().find('?'));
      if (beast::websocket::is_upgrade(request) && (path == "/v1/ws" || path == "/ws")) {
        const auto executor = session->stream.get_executor();
        auto ws = std::make_shared<WsConnection>(app_, std::move(session->stream), query_pool_,
                                                 password_pool_,
                                                 "conn-" + std::to_string(++next_connection_));
        {
          std::lock_guard lock(sessions_mutex_);
          session->ws = ws;
          session->busy = false;
          session->websocket = true;
        }
        --app_.metrics().http_connections;
        ++app_.metrics().websocket_connections;
        // The WebSocket runs on its own; this coroutine ends, and with it the HTTP read
        // buffer and parser an idle connection would otherwise keep.
        asio::co_spawn(executor, ws->Run(std::move(request), peer),
                       [this, session, ws](std::exception_ptr) { EndSession(session.get()); });
        co_return;
      }
      // Password checks block on bcrypt, statements on DuckDB and RocksDB: each runs on a
      // pool of its own, and a refused password is answered here.
      const auto started = std::chrono::steady_clock::now();
      const Routes::Work work = routes_.WorkOf(request);
      std::optional<Result<auth::Caller>> caller;
      if (work == Routes::Work::kPasswordThenQuery) {
        caller = co_await password_pool_.Run([&] { return routes_.Authenticate(request, peer); });
      }
      // A POST of SQL: its body, read once, and its statements' shape.
      std::optional<Result<SqlBody>> sql_body;
      std::optional<std::string> shape;
      if ((work == Routes::Work::kQuery || work == Routes::Work::kPasswordThenQuery) &&
          !(caller && !caller->ok())) {
        sql_body = routes_.ReadSql(request);
        if (sql_body && sql_body->ok()) shape = sql::StatementShape((*sql_body)->sql);
      }
      const Result<SqlBody>* read_body = sql_body ? &*sql_body : nullptr;
      http::response<http::string_body> response;
      if (work == Routes::Work::kInPlace || (caller && !caller->ok())) {
        response = routes_.Handle(request, peer, std::move(caller));
      } else if (work == Routes::Work::kTopic) {
        // On this thread; a consume that is to wait waits here, watched for its client
        // going away.
        TopicWait wait;
        std::shared_ptr<ClientWatch> watch;
        while (true) {
          response = routes_.Handle(request, peer, caller, nullptr, &wait);
          if (!wait.waiting || (watch && watch->gone.cancelled())) break;
          wait.waiting = false;
          if (!watch) {
            watch = std::make_shared<ClientWatch>();
            asio::co_spawn(session->stream.get_executor(), WatchClient(session, watch), asio::detached);
          }
          co_await WaitForTopic(*session, wait);
          if (stopping_) wait.deadline = std::chrono::steady_clock::now();  // answer now
        }
        if (watch) {
          watch->finished = true;
          beast::error_code ignored;
          session->stream.socket().cancel(ignored);  // ends WatchClient's wait
        }
      } else if (shape && session->thread.quick.IsQuick(*shape)) {
        // SQL of a shape that has answered quickly every time lately runs right here: handing
        // it to the query pool and back would cost two thread wake-ups, more than the
        // statement itself. A slow run sends the shape back to the pool.
        const auto run_started = std::chrono::steady_clock::now();
        response = routes_.Handle(request, peer, caller, nullptr, nullptr, read_body);
        session->thread.quick.Note(*shape, std::chrono::steady_clock::now() - run_started);
      } else {
        // While the request runs, a client that goes away cancels it.
        std::chrono::steady_clock::duration took{};
        auto watch = std::make_shared<ClientWatch>();
        asio::co_spawn(session->stream.get_executor(), WatchClient(session, watch), asio::detached);
        TopicWait wait;
        while (true) {
          co_await asio::post(asio::bind_executor(query_pool_, use_awaitable));
          const auto run_started = std::chrono::steady_clock::now();
          response = routes_.Handle(request, peer, caller, &watch->gone, &wait, read_body);
          took = std::chrono::steady_clock::now() - run_started;
          co_await asio::post(asio::bind_executor(session->stream.get_executor(), use_awaitable));
          if (!wait.waiting || watch->gone.cancelled()) break;
          wait.waiting = false;
          co_await WaitForTopic(*session, wait);
          if (stopping_) wait.deadline = std::chrono::steady_clock::now();  // answer now
        }
        watch->finished = true;
        beast::error_code ignored;
        session->stream.socket().cancel(ignored);  // ends WatchClient's wait
        if (shape) session->thread.quick.Note(*shape, took);
      }
      app_.metrics().CountRequest(
          Routes::Label(path), response.result_int(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      const bool keep_alive = response.keep_alive() && !stopping_;
      response.keep_alive(keep_alive);
      const bool written = co_await Write(*session, std::move(response));
      SetBusy(*session, false);
      if (!written || !keep_alive) break;
    }
    beast::error_code ignored;
    session->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    session->stream.close();
    EndSession(session.get());
  }

  // A topic consume found nothing: waits, holding no thread, until a group appends to the
  // topic (the log calls back from the committer), a range the group holds lapses, the
  // deadline, the client going away (WatchClient) or shutdown.
  awaitable<void> WaitForTopic(Session& session, const TopicWait& wait) {
    auto timer = std::make_shared<asio::steady_timer>(session.stream.get_executor(),
                                                      wait.lapse ? std::min(*wait.deadline, *wait.lapse) : *wait.deadline);
    session.poll_timer = timer;
    topics::TopicLog& log = app_.topics().log();
    const auto executor = session.stream.get_executor();
    const uint64_t id = log.Wait(wait.topic_num, wait.version, [timer, executor] {
      asio::post(executor, [timer] { timer->cancel(); });
    });
    if (!stopping_) co_await timer->async_wait(asio::as_tuple(use_awaitable));
    log.CancelWait(wait.topic_num, id);
    session.poll_timer.reset();
  }

  // Waits for the socket to turn readable while a request runs on the query pool: when the
  // client has closed it (or reset it), the request is cancelled. Bytes that arrive instead
  // are a pipelined request, read after this one, and end the watch. Runs on the session's
  // strand; Serve cancels the socket's wait when the request is done.
  awaitable<void> WatchClient(std::shared_ptr<Session> session, std::shared_ptr<ClientWatch> watch) {
    auto& socket = session->stream.socket();
    while (!watch->finished) {
      auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, asio::as_tuple(use_awaitable));
      if (ec || watch->finished) co_return;
      char byte = 0;
      const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) co_return;  // a pipelined request
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      watch->gone.Cancel(CancelReason::kClientGone);  // end of stream, or an error
      if (session->poll_timer) session->poll_timer->cancel();
      co_return;
    }
  }

  // After refusing a request whose body is still arriving: stop sending, then read and
  // discard for a moment, so closing does not reset the connection before the client
  // has read the refusal.
  awaitable<void> Drain(Session& session) {
    beast::error_code ec;
    session.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    session.stream.expires_after(std::chrono::seconds(2));
    std::vector<char> sink(64 * 1024);
    while (true) {
      auto [read_ec, n] = co_await session.stream.async_read_some(asio::buffer(sink),
                                                                  asio::as_tuple(use_awaitable));
      (void)n;
      if (read_ec) break;
    }
  }

  awaitable<bool> Write(Session& session, http::response<http::string_body> response) {
    response.prepare_payload();
    session.stream.expires_after(kWriteTimeout);
    auto [ec, n] = co_await http::async_write(session.stream, response, asio::as_tuple(use_awaitable));
    (void)n;
    co_return !ec;
  }

  // false when the server is stopping and the session should not start a request.
  bool SetBusy(Session& session, bool busy) {
    std::lock_guard lock(sessions_mutex_);
    session.busy = busy;
    return !(busy && stopping_);
  }

  void EndSession(Session* session) {
    std::lock_guard lock(sessions_mutex_);
    --(session->websocket ? app_.metrics().websocket_connections : app_.metrics().http_connections);
    sessions_.erase(session);
    if (stopping_ && sessions_.empty() && pg_drained_) io_.stop();
  }

  void BeginShutdown() {
    stopping_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    if (pg_) {
      pg_->BeginShutdown([this] {
        std::lock_guard lock(sessions_mutex_);
        pg_drained_ = true;
        if (sessions_.empty()) io_.stop();
      });
    }
    std::lock_guard lock(sessions_mutex_);
    if (sessions_.empty() && pg_drained_) {
      io_.stop();
      return;
    }
    // Idle keep-alive connections are waiting for a request that will not be served. What
    // is posted to a session runs on its thread, where it may have ended meanwhile (its
    // client left): only a session still listed is touched, and cancelling a closed
    // socket's operations is no error.
    auto on_session = [this](Session* s, void (*action)(Session&)) {
      asio::post(s->stream.get_executor(), [this, s, action] {
        {
          std::lock_guard listed(sessions_mutex_);
          if (!sessions_.contains(s)) return;
        }
        action(*s);
      });
    };
    for (Session* s : sessions_) {
      if (auto ws = s->ws.lock()) {
        ws->Close();
      } else if (!s->busy) {
        on_session(s, [](Session& session) {
          beast::error_code ignored;
          session.stream.socket().cancel(ignored);
        });
      } else {
        // A consume waiting for messages answers now.
        on_session(s, [](Session& session) {
          if (session.poll_timer) session.poll_timer->cancel();
        });
      }
    }
    deadline_ = std::make_unique<asio::steady_timer>(io_, kShutdownDeadline);
    deadline_->async_wait([this](beast::error_code e) {
      if (!e) {
        spdlog::warn("requests still running after the shutdown deadline: cancelling them");
        app_.engine().CancelAll();
        io_.stop();
      }
    });
  }

  App& app_;
  asio::io_context io_;
  std::vector<std::unique_ptr<IoThread>> io_threads_;  // the connections'
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::atomic<size_t> next_thread_ = 0;
  asio::thread_pool query_pool_;
  auth::PasswordPool password_pool_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  Routes routes_;
  std::atomic<bool> stopping_ = false;
  std::atomic<uint64_t> next_connection_ = 0;
  std::mutex sessions_mutex_;
  std::set<Session*> sessions_;
  std::unique_ptr<asio::steady_timer> deadline_;
  // The Postgres wire door, on the same I/O threads and pools; null when disabled.
  std::unique_ptr<pgwire::Listener> pg_;
  bool pg_drained_ = true;  // guarded by sessions_mutex_ once running
  LogThrottle refused_;
  static constexpr int kMaxRefusalsDraining = 64;
  std::atomic<int> refusals_draining_ = 0;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Bind(App& app) {
  int workers = app.config().server.workers;
  if (workers <= 0) workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto server = std::make_unique<Server>(app, workers);
  KALAM_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace kalam::server
