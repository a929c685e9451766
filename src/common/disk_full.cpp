#include "common/disk_full.h"

#include <cerrno>
#include <string>

namespace kalam {

Status DiskFull(std::string_view what) {
  std::string message = "the disk holding the data directory is full";
  if (!what.empty()) message += " (" + std::string(what) + ")";
  message += "; writes succeed again once space is freed";
  return {Code::kResourceExhausted, std::move(message)};
}

bool IsNoSpace(const std::error_code& ec) {
  const bool from_os =
      ec.category() == std::system_category() || ec.category() == std::generic_category();
  return from_os && (ec.value() == ENOSPC || ec.value() == EDQUOT);
}

bool SaysNoSpace(std::string_view error_text) {
  // strerror's words for ENOSPC and EDQUOT, as the libraries quote them.
  return error_text.find("No space left on device") != std::string_view::npos ||
         error_text.find("Disk quota exceeded") != std::string_view::npos;
}

}  // namespace kalam
