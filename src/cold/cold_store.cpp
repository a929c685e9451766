#include "cold/cold_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "common/disk_full.h"

namespace kalam::cold {
namespace fs = std::filesystem;
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

}  // namespace

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

namespace {

// A name part no other writer (thread, process or node) picks at the same time.
std::string UniqueSuffix() {
  thread_local std::mt19937_64 random(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random()));
  return text;
}

}  // namespace

Status WriteSegmentFile(const std::string& path,
                        const std::function<Status(const std::string&)>& write) {
  const std::string tmp = path + "." + UniqueSuffix() + ".tmp";
  Status written = write(tmp);
  if (!written.ok() && SaysNoSpace(written.message())) written = DiskFull("writing " + path);
  if (written.ok() && !SyncPath(tmp)) written = WriteError("Cannot sync " + tmp, errno);
  std::error_code ec;
  if (written.ok()) {
    // A link fails when path exists: a segment of that name is another writer's.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      const int error = errno;
      if (error == EEXIST) {
        written = {Code::kTransactionConflict,
                   "Another writer made " + path + " meanwhile: the flush or compaction of this scope stops; run it again"};
      } else if (error == EPERM || error == ENOTSUP || error == ENOSYS) {
        // A file system without hard links: renamed, when no such file is there.
        if (fs::exists(path, ec)) {
          written = {Code::kTransactionConflict, "Another writer made " + path + " meanwhile"};
        } else {
          fs::rename(tmp, path, ec);
          if (ec) written = {Code::kInternalError, "Cannot rename " + tmp + ": " + ec.message()};
        }
      } else {
        written = WriteError("Cannot link " + tmp + " to " + path, error);
      }
    }
  }
  fs::remove(tmp, ec);  // linked into place, or a partial file that helps no one
  if (!written.ok()) return written;
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

namespace {

// The identity of dir's manifest file (inode, modification time); zeros when absent.
std::pair<uint64_t, int64_t> FileIdentity(const std::string& dir) {
  struct stat st {};
  if (::stat((fs::path(dir) / kManifest).c_str(), &st) != 0) return {0, 0};
  return {static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

constexpr auto kRecheckSharedAfter = std::chrono::seconds(1);

}  // namespace

std::shared_ptr<const Manifest> ColdStore::Get(const std::string& dir) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(dir);
  if (it != cache_.end()) {
    if (!shared_) return it->second.manifest;
    const auto now = std::chrono::steady_clock::now();
    if (now - it->second.checked < kRecheckSharedAfter) return it->second.manifest;
    // Another node may have committed (a compaction): reread when the file changed.
    if (FileIdentity(dir) == std::make_pair(it->second.inode, it->second.mtime_ns)) {
      it->second.checked = now;
      return it->second.manifest;
    }
  }
  return Load(dir);
}

std::shared_ptr<const Manifest> ColdStore::GetFresh(const std::string& dir) {
  std::lock_guard lock(mutex_);
  return Load(dir);
}

std::shared_ptr<const Manifest> ColdStore::Load(const std::string& dir) {
  auto manifest = std::make_shared<Manifest>();
  const fs::path path = fs::path(dir) / kManifest;
  const auto [inode, mtime_ns] = FileIdentity(dir);
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
    Result<Manifest> read = DecodeManifest(text.str());
    if (read.ok()) {
      *manifest = std::move(read).value();
    } else {
      spdlog::error("unreadable manifest in {}: {}", dir, read.status().message());
      manifest->damaged = true;
    }
  }
  cache_[dir] = Cached{manifest, std::chrono::steady_clock::now(), inode, mtime_ns};
  return manifest;
}

Status ColdStore::Commit(const std::string& dir, Manifest manifest) {
  // Named apart from any other writer's: two writers never share a temporary file.
  const fs::path tmp = fs::path(dir) / ("manifest.json." + UniqueSuffix() + ".tmp");
  std::error_code ec;
  auto fail = [&](Status error) {
    fs::remove(tmp, ec);  // the manifest stays as it was
    return error;
  };
  {
    std::ofstream out(tmp, std::ios::trunc);
    errno = 0;
    out << EncodeManifest(manifest);
    if (!out.flush()) return fail(WriteError("Cannot write " + tmp.string(), errno));
  }
  if (!SyncPath(tmp.string())) return fail(WriteError("Cannot sync " + tmp.string(), errno));
  fs::rename(tmp, fs::path(dir) / kManifest, ec);
  if (ec) return fail({Code::kInternalError, "Cannot commit the manifest in " + dir});
  SyncPath(dir);
  std::lock_guard lock(mutex_);
  const auto [inode, mtime_ns] = FileIdentity(dir);
  cache_[dir] = Cached{std::make_shared<Manifest>(std::move(manifest)), std::chrono::steady_clock::now(), inode, mtime_ns};
  ++generation_;
  return Status::Ok();
}

Status ColdStore::RemoveOrphans(const std::string& root, std::chrono::seconds min_age) {
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
      const auto written = entry.last_write_time(ec);
      const bool old_enough = !ec && fs::file_time_type::clock::now() - written >= min_age;
      if ((temp || orphan) && old_enough) {
        spdlog::info("removing {} (not in a manifest)", entry.path().string());
        fs::remove(entry.path(), ec);
      }
    }
  }
  return Status::Ok();
}

void ColdStore::Invalidate(const std::string& dir) {
  std::lock_guard lock(mutex_);
  if (dir.empty()) {
    cache_.clear();
  } else {
    cache_.erase(dir);
  }
  ++generation_;
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
  for (const auto& [dir, cached] : cache_) {
    for (const Segment& segment : cached.manifest->segments) {
      totals.rows += segment.rows;
      totals.bytes += segment.bytes;
      ++totals.segments;
    }
  }
  return totals;
}

}  // namespace kalam::cold
