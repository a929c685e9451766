// A cap on the size of any one allocation a thread makes while it runs a statement.
//
// The engine's buffer manager keeps its own memory within the engine's memory limit, but
// some work allocates outside it: a scalar function that builds a huge value (the list of
// `range(50000000)`, folded into a constant while the statement is planned) or a result
// being encoded. Such work grows in a few large blocks, and a statement can't be
// interrupted half-way through one, so the cap is checked where the block is asked for:
// this file replaces the global operator new, which refuses (std::bad_alloc) any block
// larger than the limit of the thread's ScopedAllocationLimit. Threads without one, and
// blocks within the limit, cost one thread-local read per allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kalam {

// Whether a block of size may be allocated on this thread, under its ScopedAllocationLimit
// (a refusal is remembered as operator new's are). For allocators of our own making (the
// engine's vectors: query/engine.cpp), which don't go through operator new.
bool BlockAllowed(size_t size);

// Refusals on every thread since start-up: a statement whose work runs partly on other
// threads (the engine's workers) learns from it that one of them was refused.
uint64_t RefusalsSoFar();

// REQUIRES: lives on one thread; scopes nest (the inner limit holds until it ends).
class ScopedAllocationLimit {
 public:
  // bytes 0: no limit.
  explicit ScopedAllocationLimit(size_t bytes);
  ~ScopedAllocationLimit();
  ScopedAllocationLimit(const ScopedAllocationLimit&) = delete;
  ScopedAllocationLimit& operator=(const ScopedAllocationLimit&) = delete;

  // Whether an allocation was refused on this thread since the scope began.
  bool refused() const;

 private:
  const size_t outer_limit_;
  const bool outer_refused_;
};

}  // namespace kalam
