// Cold storage: per scope (one user of a USER table, or a SHARED table) a
// directory of batch-<n>.parquet segments and the manifest.json that lists them. The
// manifest is the commit point: a segment not in it does not exist, and is removed at
// start-up. Manifests are cached in memory after their first read.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "cold/manifest.h"
#include "common/status.h"

namespace kalam::cold {

class ColdStore {
 public:
  // The directory of a table's scope under its storage ("" when the storage is gone).
  static std::string ScopeDir(const catalog::CatalogState& state, const catalog::TableDef& table,
                              const std::string& scope);

  // The manifest of a scope directory; an empty one when there is none, a damaged one
  // (see Manifest::damaged) when it can't be read.
  std::shared_ptr<const Manifest> Get(const std::string& dir);
  // Writes manifest.json atomically (temp file, fsync, rename, fsync of the directory).
  Status Commit(const std::string& dir, Manifest manifest);
  // Removes segment files no manifest lists and leftover temp files under root.
  Status RemoveOrphans(const std::string& root);
  void Forget(const std::string& dir_prefix);  // a dropped table

  // Rows and bytes of the segments the known manifests list: those of every scope read or
  // written since start-up (a scope untouched since is not counted until it is).
  struct Totals {
    int64_t rows = 0, bytes = 0, segments = 0;
  };
  Totals KnownTotals();

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Manifest>> cache_;
};

// fsync of a file or directory; false on failure (errno says why).
bool SyncPath(const std::string& path);

// Writes the segment file path: write(tmp) writes path + ".tmp", which is then fsynced and
// renamed into place. On failure the .tmp file is gone and nothing else changed; a full
// disk fails with DiskFull (common/disk_full.h).
Status WriteSegmentFile(const std::string& path,
                        const std::function<Status(const std::string& tmp)>& write);

}  // namespace kalam::cold
