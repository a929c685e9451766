// manifest.json, the list of a cold scope's segments (see cold_store.h), and its JSON
// text: written by ColdStore::Commit, read by ColdStore::Get. No files here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalam::cold {

struct Segment {
  std::string file;  // name within the scope directory
  int64_t rows = 0;
  int64_t min_seq = 0, max_seq = 0;
  uint32_t schema_version = 0;
  // The segment's columns by id and name, so renamed and dropped columns read right.
  std::vector<std::pair<uint32_t, std::string>> columns;
  std::string stats_json = "{}";  // per column: min, max, null count
  int64_t bytes = 0;
  // False when no key of this segment is in an earlier segment of the scope (checked at
  // flush): reads then need no newest-version merge between the two. True when unknown.
  bool overlaps_earlier = true;

  // The name the column (by id) has in this segment; nullopt when the segment predates it.
  std::optional<std::string> ColumnName(uint32_t id) const {
    for (const auto& [column_id, name] : columns) {
      if (column_id == id) return name;
    }
    return std::nullopt;
  }
  // The column's min and max from stats_json, as text; nullopt when not recorded.
  std::optional<std::pair<std::string, std::string>> ColumnRange(const std::string& column) const;
};

struct Manifest {
  uint64_t next_batch = 1;
  std::vector<Segment> segments;
  // The scope's manifest.json exists but can't be read: its segments are unknown, so the
  // scope must be neither read (rows would be missing) nor written (a new batch could
  // overwrite a listed one) nor cleaned up (every segment would look like an orphan).
  bool damaged = false;

  // INTERNAL_ERROR naming dir when the manifest is damaged.
  Status CheckReadable(const std::string& dir) const {
    if (!damaged) return Status::Ok();
    return {Code::kInternalError, "The manifest of the cold segments in " + dir +
                                      " is damaged: restore it from a backup"};
  }
};

// The manifest as manifest.json holds it.
std::string EncodeManifest(const Manifest& manifest);
// INTERNAL_ERROR saying what is wrong when text is no manifest (a field missing or of the
// wrong type, a number out of range). DecodeManifest(EncodeManifest(m)) is m.
Result<Manifest> DecodeManifest(std::string_view text);

}  // namespace kalam::cold
