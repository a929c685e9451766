// Writing JSON text by hand on hot paths (result rows), where building a DOM would cost
// an allocation per value.
#pragma once

#include <string>
#include <string_view>

namespace kalam {

// Appends s as a quoted JSON string. REQUIRES: s is valid UTF-8.
void AppendJsonString(std::string& out, std::string_view s);

inline std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

}  // namespace kalam
