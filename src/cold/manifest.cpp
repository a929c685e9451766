#include "cold/manifest.h"

#include <boost/json.hpp>
#include <exception>

namespace kalam::cold {
namespace json = boost::json;

std::optional<std::pair<std::string, std::string>> Segment::ColumnRange(
    const std::string& column) const {
  try {
    const json::value stats = json::parse(stats_json);
    const auto* entry = stats.as_object().if_contains(column);
    if (entry == nullptr || !entry->is_object()) return std::nullopt;
    const auto* min = entry->as_object().if_contains("min");
    const auto* max = entry->as_object().if_contains("max");
    if (min == nullptr || max == nullptr || !min->is_string() || !max->is_string()) return std::nullopt;
    return std::make_pair(std::string(min->as_string()), std::string(max->as_string()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string EncodeManifest(const Manifest& m) {
  json::array segments;
  for (const auto& s : m.segments) {
    json::array columns;
    for (const auto& [id, name] : s.columns) columns.push_back(json::object{{"id", id}, {"name", name}});
    segments.push_back(json::object{{"file", s.file},
                                    {"rows", s.rows},
                                    {"min_seq", s.min_seq},
                                    {"max_seq", s.max_seq},
                                    {"schema_version", s.schema_version},
                                    {"columns", std::move(columns)},
                                    {"stats", json::parse(s.stats_json)},
                                    {"bytes", s.bytes},
                                    {"overlaps_earlier", s.overlaps_earlier}});
  }
  return json::serialize(json::object{{"next_batch", m.next_batch}, {"segments", std::move(segments)}});
}

Result<Manifest> DecodeManifest(std::string_view text) {
  // Boost.JSON's checked accessors (at, as_*, to_number) throw on a missing field, a
  // wrong type or a number that does not fit: one catch for all of them.
  try {
    Manifest m;
    const json::object o = json::parse(text).as_object();
    m.next_batch = o.at("next_batch").to_number<uint64_t>();
    for (const auto& v : o.at("segments").as_array()) {
      const auto& so = v.as_object();
      Segment s;
      s.file = std::string(so.at("file").as_string());
      s.rows = so.at("rows").to_number<int64_t>();
      s.min_seq = so.at("min_seq").to_number<int64_t>();
      s.max_seq = so.at("max_seq").to_number<int64_t>();
      s.schema_version = so.at("schema_version").to_number<uint32_t>();
      for (const auto& c : so.at("columns").as_array()) {
        s.columns.emplace_back(c.at("id").to_number<uint32_t>(), std::string(c.at("name").as_string()));
      }
      s.stats_json = json::serialize(so.at("stats"));
      // Written back as read: a number past a double's range (1e999) reads as infinity,
      // which serializes as no JSON, and the scope's next commit would fail on it.
      (void)json::parse(s.stats_json);
      s.bytes = so.at("bytes").to_number<int64_t>();
      if (const auto* overlaps = so.if_contains("overlaps_earlier"); overlaps && overlaps->is_bool()) {
        s.overlaps_earlier = overlaps->as_bool();
      }
      m.segments.push_back(std::move(s));
    }
    return m;
  } catch (const std::exception& e) {
    return Status(Code::kInternalError, e.what());
  }
}

}  // namespace kalam::cold
