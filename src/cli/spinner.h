// While a statement runs longer than half a second, a spinner with the elapsed time on the
// terminal ("| 1.2 s"); the line is cleared when the statement ends.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace kalam::cli {

class Spinner {
 public:
  // Does nothing unless enabled (the CLI enables it when stdout is a terminal).
  Spinner(bool enabled, std::FILE* out);
  ~Spinner();  // stops it and clears its line; then the caller may write to out
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

 private:
  void Run();

  std::FILE* out_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kalam::cli
