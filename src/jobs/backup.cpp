#include "jobs/backup.h"

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/json_text.h"
#include "store/kv_store.h"

namespace kalam::jobs {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr int kFormat = 1;
constexpr char kManifest[] = "backup.json";
constexpr char kStagedRestore[] = "restore.pending";

bool IsUnder(const fs::path& path, const fs::path& base) {
  const auto rel = path.lexically_relative(base);
  return !rel.empty() && *rel.begin() != "..";
}

bool IsEmptyOrMissing(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

// Copies the tree from into to (created), hard-linking files where it can: segments and
// manifests are never changed in place, so a link is as good as a copy. Temporary files
// (*.tmp, a flush or compaction cut short) are left out.
Status CopyTree(const fs::path& from, const fs::path& to, const std::function<bool()>& cancelled,
                int64_t& files, int64_t& bytes) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return {Code::kInternalError, "Cannot create " + to.string() + ": " + ec.message()};
  if (!fs::exists(from, ec)) return Status::Ok();
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (cancelled && cancelled()) return {Code::kInternalError, "Cancelled"};
    const fs::path target = to / it->path().lexically_relative(from);
    if (it->is_directory()) {
      fs::create_directories(target, ec);
    } else if (it->is_regular_file() && !it->path().string().ends_with(".tmp")) {
      fs::create_hard_link(it->path(), target, ec);
      if (ec) {
        ec.clear();
        fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing, ec);
      }
      ++files;
      bytes += static_cast<int64_t>(it->file_size());
    }
    if (ec) return {Code::kInternalError, "Cannot copy " + it->path().string() + ": " + ec.message()};
  }
  if (ec) return {Code::kInternalError, "Cannot read " + from.string() + ": " + ec.message()};
  return Status::Ok();
}

Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return {Code::kInternalError, "Cannot write " + path.string()};
  return Status::Ok();
}

Result<json::object> ReadManifest(const fs::path& dir) {
  std::ifstream in(dir / kManifest);
  if (!in) return Status(Code::kInvalidInput, "'" + dir.string() + "' holds no backup (no " + kManifest + ")");
  std::stringstream text;
  text << in.rdbuf();
  std::error_code ec;
  json::value parsed = json::parse(text.str(), ec);
  if (ec || !parsed.is_object() || !parsed.as_object().contains("format") ||
      !parsed.as_object().at("format").is_int64() || !parsed.as_object().contains("storages")) {
    return Status(Code::kInvalidInput, "The backup's " + std::string(kManifest) + " in '" + dir.string() + "' is damaged");
  }
  if (parsed.as_object().at("format").as_int64() != kFormat) {
    return Status(Code::kInvalidInput, "The backup in '" + dir.string() + "' has a format this server does not read");
  }
  return std::move(parsed.as_object());
}

}  // namespace

Result<std::string> AllowedBackupPath(const std::string& path, const std::vector<std::string>& allowed) {
  if (path.empty()) return Status(Code::kInvalidSql, "The backup path is empty");
  const fs::path normal = fs::absolute(path).lexically_normal();
  for (const auto& dir : allowed) {
    if (IsUnder(normal, fs::absolute(dir).lexically_normal())) return normal.string();
  }
  if (allowed.empty()) {
    return Status(Code::kPermissionDenied,
                  "Backups are off ([backup] allowed_directories is empty): list the directories they may use");
  }
  return Status(Code::kPermissionDenied,
                "'" + normal.string() + "' is not under [backup] allowed_directories");
}

Result<std::string> BackupDatabase(store::KvStore& store, const catalog::CatalogState& state,
                                   const std::string& data_dir, const std::string& target,
                                   int64_t last_seq, const std::function<bool()>& cancelled) {
  const fs::path to(target);
  if (!IsEmptyOrMissing(to)) {
    return Status(Code::kAlreadyExists, "'" + target + "' exists and is not empty: back up into a new directory");
  }
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return Status(Code::kInternalError, "Cannot create " + target + ": " + ec.message());
  KALAM_RETURN_IF_ERROR(store.Checkpoint((to / "rocksdb").string()));
  int64_t files = 0, bytes = 0;
  const fs::path data = fs::absolute(data_dir).lexically_normal();
  KALAM_RETURN_IF_ERROR(CopyTree(data / "storage", to / "storage", cancelled, files, bytes));
  std::string storages = "{";
  for (const auto& [id, storage] : state.storages) {
    const fs::path base = fs::path(storage.base_directory).lexically_normal();
    if (storages.size() > 1) storages += ",";
    storages += JsonString(id) + ":" + JsonString(base.string());
    if (IsUnder(base, data) || base == data / "storage") continue;  // in storage/ already
    KALAM_RETURN_IF_ERROR(CopyTree(base, to / "storages" / id, cancelled, files, bytes));
  }
  storages += "}";
  fs::create_directories(to / "files", ec);
  for (const char* name : {"jwt_secret"}) {
    if (fs::exists(data / name, ec)) fs::copy_file(data / name, to / "files" / name, ec);
  }
  const std::string manifest = "{\"format\":" + std::to_string(kFormat) + ",\"created_at\":" +
                               std::to_string(NowMicros()) + ",\"last_seq\":" + std::to_string(last_seq) +
                               ",\"storages\":" + storages + "}";
  // Last: a directory with backup.json is a whole backup.
  KALAM_RETURN_IF_ERROR(WriteFile(to / kManifest, manifest));
  return "{\"path\":" + JsonString(to.string()) + ",\"last_seq\":" + std::to_string(last_seq) +
         ",\"segment_files\":" + std::to_string(files) + ",\"segment_bytes\":" + std::to_string(bytes) + "}";
}

Status CheckBackup(const std::string& dir) {
  auto manifest = ReadManifest(dir);
  if (!manifest.ok()) return manifest.status();
  std::error_code ec;
  if (!fs::is_directory(fs::path(dir) / "rocksdb", ec)) {
    return Status(Code::kInvalidInput, "The backup in '" + dir + "' has no rocksdb/ directory");
  }
  return Status::Ok();
}

Status RestoreDatabase(const std::string& backup_dir, const std::string& data_dir) {
  auto manifest = ReadManifest(backup_dir);
  if (!manifest.ok()) return manifest.status();
  KALAM_RETURN_IF_ERROR(CheckBackup(backup_dir));
  const fs::path from(backup_dir), data = fs::absolute(data_dir).lexically_normal();
  if (!IsEmptyOrMissing(data)) {
    return Status(Code::kAlreadyExists, "'" + data.string() + "' is not empty: restore into a new data directory");
  }
  // Storages that lived elsewhere go back where they were; refuse before copying anything.
  std::vector<std::pair<fs::path, fs::path>> elsewhere;
  for (const auto& [id, base] : manifest->at("storages").as_object()) {
    if (!fs::exists(from / "storages" / std::string(id))) continue;
    const fs::path target(std::string(base.as_string()));
    if (!IsEmptyOrMissing(target)) {
      return Status(Code::kAlreadyExists, "Storage '" + std::string(id) + "' lived in '" + target.string() +
                                              "', which holds files now: move them away first");
    }
    elsewhere.emplace_back(from / "storages" / std::string(id), target);
  }
  int64_t files = 0, bytes = 0;
  KALAM_RETURN_IF_ERROR(CopyTree(from / "rocksdb", data / "rocksdb", nullptr, files, bytes));
  KALAM_RETURN_IF_ERROR(CopyTree(from / "storage", data / "storage", nullptr, files, bytes));
  KALAM_RETURN_IF_ERROR(CopyTree(from / "files", data, nullptr, files, bytes));
  for (const auto& [source, target] : elsewhere) {
    KALAM_RETURN_IF_ERROR(CopyTree(source, target, nullptr, files, bytes));
  }
  return Status::Ok();
}

Status StageRestore(const std::string& backup_dir, const std::string& data_dir) {
  KALAM_RETURN_IF_ERROR(CheckBackup(backup_dir));
  return WriteFile(fs::path(data_dir) / kStagedRestore, fs::absolute(backup_dir).lexically_normal().string());
}

Result<bool> ApplyStagedRestore(const std::string& data_dir) {
  const fs::path data = fs::absolute(data_dir).lexically_normal();
  std::ifstream in(data / kStagedRestore);
  if (!in) return false;
  std::string backup;
  std::getline(in, backup);
  in.close();
  KALAM_RETURN_IF_ERROR(CheckBackup(backup));
  // The backup is copied in beside the current contents first: a failure leaves those as
  // they were.
  const fs::path staging = data / "restoring";
  std::error_code ec;
  fs::remove_all(staging, ec);
  KALAM_RETURN_IF_ERROR(RestoreDatabase(backup, staging.string()));
  // What the data directory held moves aside (kept, never deleted here).
  const fs::path aside = data / ("replaced-" + std::to_string(NowMicros() / 1000000));
  fs::create_directories(aside, ec);
  for (const char* name : {"rocksdb", "storage", "jwt_secret"}) {
    if (fs::exists(data / name, ec)) fs::rename(data / name, aside / name, ec);
    if (ec) return Status(Code::kInternalError, "Cannot move " + (data / name).string() + " aside: " + ec.message());
  }
  for (const char* name : {"rocksdb", "storage", "jwt_secret"}) {
    if (fs::exists(staging / name, ec)) fs::rename(staging / name, data / name, ec);
    if (ec) return Status(Code::kInternalError, "Cannot put the restored " + std::string(name) + " in place: " + ec.message());
  }
  fs::remove_all(staging, ec);
  fs::remove(data / kStagedRestore, ec);
  return true;
}

}  // namespace kalam::jobs
