#include "cli/spinner.h"

#include <chrono>

namespace kalam::cli {

namespace {
constexpr auto kDelay = std::chrono::milliseconds(500);
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr char kFrames[] = {'|', '/', '-', '\\'};
}  // namespace

Spinner::Spinner(bool enabled, std::FILE* out) : out_(out) {
  if (enabled) thread_ = std::thread([this] { Run(); });
}

Spinner::~Spinner() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_signal_.notify_one();
  thread_.join();
}

void Spinner::Run() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  if (stop_signal_.wait_for(lock, kDelay, [this] { return stop_; })) return;
  for (size_t frame = 0; !stop_; ++frame) {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    std::fprintf(out_, "\r%c %.1f s", kFrames[frame % sizeof(kFrames)], elapsed.count());
    std::fflush(out_);
    stop_signal_.wait_for(lock, kTick, [this] { return stop_; });
  }
  std::fputs("\r\x1b[K", out_);  // back to the start of the line, cleared
  std::fflush(out_);
}

}  // namespace kalam::cli
