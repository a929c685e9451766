#include "auth/password_pool.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace kalam::auth {

namespace asio = boost::asio;

PasswordPool::PasswordPool(size_t threads, size_t max_waiting)
    : pool_(threads), capacity_(threads + max_waiting) {}

asio::awaitable<Result<Caller>> PasswordPool::Run(
    std::function<Result<Caller>()> check) {
  if (admitted_.fetch_add(1) >= capacity_) {
    --admitted_;
    co_return Status(Code::kServiceUnavailable,
                     "Too many sign-ins are waiting for a password check: try again shortly");
  }
  const auto home = co_await asio::this_coro::executor;
  co_await asio::post(asio::bind_executor(pool_, asio::use_awaitable));
  Result<Caller> answer = Status(Code::kInternalError, "The password check failed");
  try {
    answer = check();
  } catch (const std::exception& e) {
    spdlog::error("a password check failed: {}", e.what());
  }
  --admitted_;
  co_await asio::post(asio::bind_executor(home, asio::use_awaitable));
  co_return answer;
}

}  // namespace kalam::auth
