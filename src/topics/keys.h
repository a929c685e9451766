// Fixed-width big-endian integers in the topics family's keys (so keys sort by number)
// and values. Internal to topics/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kalam::topics {

inline void AppendBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// REQUIRES: in holds bytes bytes from at.
inline uint64_t ReadBigEndian(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

}  // namespace kalam::topics
