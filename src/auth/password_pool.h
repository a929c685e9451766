// Password checks run bcrypt, slow on purpose (a quarter second at cost 12). They run on
// threads of their own, apart from the query pool, so a flood of sign-ins — right or wrong
// passwords — can't hold up statements: at worst sign-ins wait for each other. The queue is
// bounded ([auth] password_check_queue): past it a check is refused at once with
// SERVICE_UNAVAILABLE rather than queued.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <cstddef>
#include <functional>

#include "auth/caller.h"
#include "common/status.h"

namespace kalam::auth {

class PasswordPool {
 public:
  PasswordPool(size_t threads, size_t max_waiting);

  // Runs check on one of the pool's threads and resumes the calling coroutine on its own
  // executor with the answer. SERVICE_UNAVAILABLE at once, check not run, when max_waiting
  // checks already wait.
  boost::asio::awaitable<Result<Caller>> Run(std::function<Result<Caller>()> check);

  // Waits for the checks under way (at shutdown).
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  const size_t capacity_;             // checks running or waiting, at most
  std::atomic<size_t> admitted_ = 0;  // checks running or waiting now
};

}  // namespace kalam::auth
