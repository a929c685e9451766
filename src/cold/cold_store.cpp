#include "cold/cold_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/disk_full.h"

namespace kalam::cold {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

constexpr char kManifest[] = "manifest.json";

std::string Fill(std::string text, const std::string& name, const std::string& value) {
  const std::string placeholder = "{" + name + "}";
  for (size_t at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
  return text;
}

std::string Encode(const Manifest& m) {
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

Manifest Decode(const std::string& text) {
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
    s.bytes = so.at("bytes").to_number<int64_t>();
    if (const auto* overlaps = so.if_contains("overlaps_earlier"); overlaps && overlaps->is_bool()) {
      s.overlaps_earlier = overlaps->as_bool();
    }
    m.segments.push_back(std::move(s));
  }
  return m;
}

}  // namespace

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

bool SyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  errno = error;
  return ok;
}

namespace {

// The error of a failed file write, errno telling why.
Status WriteError(const std::string& what, int error) {
  if (IsNoSpace(std::error_code(error, std::generic_category()))) return DiskFull(what);
  return {Code::kInternalError, what + ": " + std::strerror(error)};
}

}  // namespace

Status WriteSegmentFile(const std::string& path,
                        const std::function<Status(const std::string&)>& write) {
  const std::string tmp = path + ".tmp";
  Status written = write(tmp);
  if (!written.ok() && SaysNoSpace(written.message())) written = DiskFull("writing " + path);
  if (written.ok() && !SyncPath(tmp)) written = WriteError("Cannot sync " + tmp, errno);
  std::error_code ec;
  if (written.ok()) {
    fs::rename(tmp, path, ec);
    if (ec) written = {Code::kInternalError, "Cannot rename " + tmp + ": " + ec.message()};
  }
  if (!written.ok()) {
    fs::remove(tmp, ec);  // a partial file helps no one, and holds the space
    return written;
  }
  SyncPath(fs::path(path).parent_path().string());
  return Status::Ok();
}

std::string ColdStore::ScopeDir(const catalog::CatalogState& state, const catalog::TableDef& table,
                                const std::string& scope) {
  auto it = state.storages.find(table.storage_id);
  if (it == state.storages.end()) return {};
  const auto& storage = it->second;
  std::string relative = table.type == catalog::TableType::kUser ? storage.user_tables_template
                                                                 : storage.shared_tables_template;
  relative = Fill(Fill(Fill(relative, "namespace", table.ns), "tableName", table.name), "userId", scope);
  // A table number keeps a re-created table apart from the files of a dropped one.
  return (fs::path(storage.base_directory) / relative / ("t" + std::to_string(table.table_num))).string();
}

std::shared_ptr<const Manifest> ColdStore::Get(const std::string& dir) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(dir);
  if (it != cache_.end()) return it->second;
  auto manifest = std::make_shared<Manifest>();
  const fs::path path = fs::path(dir) / kManifest;
  std::ifstream in(path);
  std::error_code ec;
  if (!in && fs::exists(path, ec)) {
    // There but unreadable (permissions, I/O): as unknown as a corrupt one.
    spdlog::error("cannot open the manifest in {}", dir);
    manifest->damaged = true;
    return manifest;  // not cached: a repaired file is read at the next use
  }
  if (!in && ec) {
    spdlog::error("cannot tell whether {} has a manifest: {}", dir, ec.message());
    manifest->damaged = true;
    return manifest;
  }
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    try {
      *manifest = Decode(text.str());
    } catch (const std::exception& e) {
      spdlog::error("unreadable manifest in {}: {}", dir, e.what());
      manifest = std::make_shared<Manifest>();
      manifest->damaged = true;
    }
  }
  cache_[dir] = manifest;
  return manifest;
}

Status ColdStore::Commit(const std::string& dir, Manifest manifest) {
  const fs::path tmp = fs::path(dir) / "manifest.json.tmp";
  std::error_code ec;
  auto fail = [&](Status error) {
    fs::remove(tmp, ec);  // the manifest stays as it was
    return error;
  };
  {
    std::ofstream out(tmp, std::ios::trunc);
    errno = 0;
    out << Encode(manifest);
    if (!out.flush()) return fail(WriteError("Cannot write " + tmp.string(), errno));
  }
  if (!SyncPath(tmp.string())) return fail(WriteError("Cannot sync " + tmp.string(), errno));
  fs::rename(tmp, fs::path(dir) / kManifest, ec);
  if (ec) return fail({Code::kInternalError, "Cannot commit the manifest in " + dir});
  SyncPath(dir);
  std::lock_guard lock(mutex_);
  cache_[dir] = std::make_shared<Manifest>(std::move(manifest));
  return Status::Ok();
}

Status ColdStore::RemoveOrphans(const std::string& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return Status::Ok();
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory()) dirs.push_back(it->path());
  }
  dirs.push_back(root);
  for (const auto& dir : dirs) {
    const auto manifest = Get(dir.string());
    if (manifest->damaged) {
      spdlog::error("keeping every file in {}: its manifest is damaged", dir.string());
      continue;
    }
    std::set<std::string> listed;
    for (const auto& s : manifest->segments) listed.insert(s.file);
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      const bool temp = name.ends_with(".tmp");
      const bool orphan = name.starts_with("batch-") && name.ends_with(".parquet") && !listed.contains(name);
      if (temp || orphan) {
        spdlog::info("removing {} (not in a manifest)", entry.path().string());
        fs::remove(entry.path(), ec);
      }
    }
  }
  return Status::Ok();
}

void ColdStore::Forget(const std::string& dir_prefix) {
  std::lock_guard lock(mutex_);
  for (auto it = cache_.lower_bound(dir_prefix); it != cache_.end() && it->first.starts_with(dir_prefix);) {
    it = cache_.erase(it);
  }
}

ColdStore::Totals ColdStore::KnownTotals() {
  std::lock_guard lock(mutex_);
  Totals totals;
  for (const auto& [dir, manifest] : cache_) {
    for (const Segment& segment : manifest->segments) {
      totals.rows += segment.rows;
      totals.bytes += segment.bytes;
      ++totals.segments;
    }
  }
  return totals;
}

}  // namespace kalam::cold
