// manifest.json as read from disk, from arbitrary text: a damaged one is an error with a
// message, never a crash; one that reads encodes to text that reads back the same, and
// encoding is then a fixed point. Column ranges read from any statistics.
// Statistics compare near (json_near.h); the server writes their min and max as strings,
// and counts as integers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cold/manifest.h"
#include "json_near.h"

namespace {

using namespace kalam::cold;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

bool Same(const Segment& a, const Segment& b) {
  return a.file == b.file && a.rows == b.rows && a.min_seq == b.min_seq && a.max_seq == b.max_seq &&
         a.schema_version == b.schema_version && a.columns == b.columns &&
         kalam::fuzz::NearText(a.stats_json, b.stats_json) && a.bytes == b.bytes &&
         a.overlaps_earlier == b.overlaps_earlier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const kalam::Result<Manifest> read = DecodeManifest(text);
  if (!read.ok()) {
    Check(read.status().code() == kalam::Code::kInternalError && !read.status().message().empty());
    return 0;
  }
  Check(!read->damaged);
  for (const Segment& segment : read->segments) {
    for (const auto& [id, name] : segment.columns) {
      if (auto range = segment.ColumnRange(name)) Check(segment.stats_json.find("min") != std::string::npos);
      Check(segment.ColumnName(id).has_value());
    }
  }
  const std::string encoded = EncodeManifest(*read);
  const kalam::Result<Manifest> again = DecodeManifest(encoded);
  Check(again.ok() && again->next_batch == read->next_batch && again->segments.size() == read->segments.size());
  for (size_t i = 0; i < read->segments.size(); ++i) Check(Same(again->segments[i], read->segments[i]));
  Check(kalam::fuzz::NearText(EncodeManifest(*again), encoded));
  return 0;
}
