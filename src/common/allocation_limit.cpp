#include "common/allocation_limit.h"

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>

namespace kalam {
namespace {

// The thread's limit; SIZE_MAX: none. Plain thread_locals (constant-initialized), so
// operator new can read them before and after any constructor runs.
thread_local size_t allocation_limit = std::numeric_limits<size_t>::max();
thread_local bool allocation_refused = false;
std::atomic<uint64_t> refusals = 0;

void* Allocate(size_t size) noexcept {
  if (size > allocation_limit) {
    allocation_refused = true;
    refusals.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  return std::malloc(size == 0 ? 1 : size);
}

void* AllocateOrThrow(size_t size) {
  for (;;) {
    if (void* p = Allocate(size)) return p;
    if (allocation_refused && size > allocation_limit) throw std::bad_alloc();
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

}  // namespace

ScopedAllocationLimit::ScopedAllocationLimit(size_t bytes)
    : outer_limit_(allocation_limit), outer_refused_(allocation_refused) {
  if (bytes > 0 && bytes < allocation_limit) allocation_limit = bytes;
  allocation_refused = false;
}

ScopedAllocationLimit::~ScopedAllocationLimit() {
  allocation_limit = outer_limit_;
  allocation_refused = outer_refused_ || allocation_refused;
}

bool ScopedAllocationLimit::refused() const { return allocation_refused; }

bool BlockAllowed(size_t size) {
  if (size <= allocation_limit) return true;
  allocation_refused = true;
  refusals.fetch_add(1, std::memory_order_relaxed);
  return false;
}

uint64_t RefusalsSoFar() { return refusals.load(std::memory_order_relaxed); }

}  // namespace kalam

// The replaceable allocation functions (the aligned ones keep the library's: nothing
// allocates large over-aligned blocks). operator delete stays the library's, which frees
// with std::free.
void* operator new(size_t size) { return kalam::AllocateOrThrow(size); }
void* operator new[](size_t size) { return kalam::AllocateOrThrow(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return kalam::Allocate(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return kalam::Allocate(size); }
