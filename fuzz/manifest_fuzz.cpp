// manifest.json as read from disk, from arbitrary text: a damaged one is an error with a
// message, never a crash; one that reads encodes to text that reads back the same, and
// encoding is then a fixed point. Column ranges read from any statistics.
// Numbers with a fraction compare near, not equal: Boost.JSON 1.81 reads a double within
// a few units in the last place (1.7488465674311578e308 reads back as ...77e308, then ...75e308).
// The server writes statistics' min and max as strings, and counts as integers.
#include <boost/json.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cold/manifest.h"

namespace {

using namespace kalam::cold;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

namespace json = boost::json;

// Equal JSON, doubles within a relative 1e-14.
bool Near(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-14 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const json::array &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!Near(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const json::object &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
      if (i->key() != j->key() || !Near(i->value(), j->value())) return false;
    }
    return true;
  }
  return a == b;
}

bool Same(const Segment& a, const Segment& b) {
  return a.file == b.file && a.rows == b.rows && a.min_seq == b.min_seq && a.max_seq == b.max_seq &&
         a.schema_version == b.schema_version && a.columns == b.columns &&
         Near(json::parse(a.stats_json), json::parse(b.stats_json)) && a.bytes == b.bytes &&
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
  Check(Near(json::parse(EncodeManifest(*again)), json::parse(encoded)));
  return 0;
}
