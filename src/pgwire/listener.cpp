#include "pgwire/listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/accept_loop.h"
#include "common/log_throttle.h"
#include "pgwire/connection.h"

namespace kalam::pgwire {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

class TcpListener final : public Listener {
 public:
  TcpListener(asio::io_context& io, Services services)
      : io_(io), services_(services), acceptor_(io) {
    // Connections live on I/O contexts of one thread each, spread round robin: a
    // connection's reads, writes and quick statements never hand over between threads (on
    // a context shared by several threads, each completion may wake another thread).
    const size_t count = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
    for (size_t i = 0; i < count; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.push_back(asio::make_work_guard(*contexts_.back()));
    }
  }

  ~TcpListener() override { Stop(); }

  Status Listen() {
    const auto& cfg = services_.config.postgres_wire;
    const std::string host = cfg.host.empty() ? services_.config.server.host : cfg.host;
    const Status listening = kalam::Listen(acceptor_, host, cfg.port, "postgres_wire.host");
    if (listening.code() == Code::kInternalError) {
      return {listening.code(), "Postgres wire protocol: " + listening.message() +
                                    " (set [postgres_wire] port, or enabled = false)"};
    }
    return listening;
  }

  void Start() override {
    for (auto& context : contexts_) threads_.emplace_back([&context] { context->run(); });
    asio::co_spawn(io_, AcceptLoop(acceptor_, "postgres wire", [this](tcp::socket socket) { Accept(std::move(socket)); }),
                   asio::detached);
  }

  void Stop() override {
    guards_.clear();
    for (auto& context : contexts_) context->stop();  // connections still open end with it
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  uint16_t port() const override { return acceptor_.local_endpoint().port(); }

  void BeginShutdown(std::function<void()> on_drained) override {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      on_drained_ = std::move(on_drained);
      open.assign(connections_.begin(), connections_.end());
    }
    boost::system::error_code ec;
    acceptor_.close(ec);
    if (open.empty()) {
      Drained();
      return;
    }
    for (const auto& connection : open) {
      asio::post(connection->executor(), [connection] { connection->StopIfIdle(); });
    }
  }

 private:
  void Accept(tcp::socket accepted) {
    asio::io_context& context = *contexts_[next_context_++ % contexts_.size()];
    boost::system::error_code ec;
    const auto protocol = accepted.local_endpoint(ec).protocol();
    if (ec) return;  // the client is gone already
    tcp::socket socket(context, protocol, accepted.release());
    auto connection = std::make_shared<Connection>(
        std::move(socket), services_, ++next_process_id_, stopping_,
        [this](int32_t process_id, int32_t secret) { CancelStatement(process_id, secret); });
    const int64_t cap = services_.config.postgres_wire.max_connections;
    bool refuse = false;
    {
      std::lock_guard lock(mutex_);
      refuse = cap > 0 && static_cast<int64_t>(connections_.size()) >= cap;
      if (!refuse) connections_.insert(connection);
    }
    if (!refuse) ++services_.open_connections;
    if (refuse) {
      if (auto held_back = refused_.Allow()) {
        spdlog::warn("postgres wire: refusing a connection: {} are open (postgres_wire.max_connections; {} more refused since the last report)",
                     cap, *held_back);
      }
      asio::co_spawn(connection->executor(), connection->Run(true),
                     [connection](std::exception_ptr) {});  // keeps it alive to the end
      return;
    }
    asio::co_spawn(connection->executor(), connection->Run(false),
                   [this, connection](std::exception_ptr error) {
                     if (error) spdlog::error("postgres wire: a connection failed unexpectedly");
                     End(connection);
                   });
  }

  // A CancelRequest: the connection with that backend key cancels its running statement.
  void CancelStatement(int32_t process_id, int32_t secret) {
    std::lock_guard lock(mutex_);
    for (const auto& connection : connections_) connection->Cancel(process_id, secret);
  }

  void End(const std::shared_ptr<Connection>& connection) {
    bool drained = false;
    {
      std::lock_guard lock(mutex_);
      connections_.erase(connection);
      drained = stopping_ && connections_.empty();
    }
    --services_.open_connections;
    if (drained) Drained();
  }

  void Drained() {
    std::function<void()> done;
    {
      std::lock_guard lock(mutex_);
      done = std::move(on_drained_);
      on_drained_ = nullptr;
    }
    if (done) done();
  }

  asio::io_context& io_;  // the acceptor's
  Services services_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;  // the connections'
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_context_ = 0;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_ = false;
  std::atomic<int32_t> next_process_id_ = 0;
  std::mutex mutex_;
  std::set<std::shared_ptr<Connection>> connections_;  // guarded by mutex_
  std::function<void()> on_drained_;                   // guarded by mutex_
  LogThrottle refused_;
};

}  // namespace

Result<std::unique_ptr<Listener>> Listener::Bind(asio::io_context& io, Services services) {
  auto listener = std::make_unique<TcpListener>(io, services);
  KALAM_RETURN_IF_ERROR(listener->Listen());
  return std::unique_ptr<Listener>(std::move(listener));
}

}  // namespace kalam::pgwire
