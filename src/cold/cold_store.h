// Cold storage: per scope (one user of a USER table, or a SHARED table) a
// directory of batch-<n>.parquet segments and the manifest.json that lists them. The
// manifest is the commit point: a segment not in it does not exist, and is removed at
// start-up. Manifests are cached in memory after their first read.
//
// Several writers may share a directory (a cluster's nodes on shared storage): a writer
// reads the manifest afresh (GetFresh), names its segment batch-<next_batch> and creates
// it only if no file has that name yet (WriteSegmentFile), so of two writers working from
// the same manifest one fails instead of both committing. A shared store (SetShared) also
// rereads a cached manifest whose file changed, once the copy is a second old.
#pragma once

#include <atomic>
#include <chrono>
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
  // Like Get, but read from the file whatever the cache holds: what a writer starts from.
  std::shared_ptr<const Manifest> GetFresh(const std::string& dir);
  // Writes manifest.json atomically (temp file, fsync, rename, fsync of the directory).
  Status Commit(const std::string& dir, Manifest manifest);
  // Removes segment files no manifest lists and leftover temp files under root.
  // Only files at least min_age old go: on shared storage another node may be writing
  // the newer ones.
  Status RemoveOrphans(const std::string& root,
                       std::chrono::seconds min_age = std::chrono::seconds(0));
  void Forget(const std::string& dir_prefix);  // a dropped table

  // Cluster mode: the manifests are on storage other nodes write too.
  void SetShared(bool shared) { shared_ = shared; }
  bool shared() const { return shared_; }
  // Another node changed the manifest of dir (a replica applied a flush's markers): the
  // cached copy goes. "" drops every cached copy.
  void Invalidate(const std::string& dir);
  // Counts the manifest changes this node knew of (commits here, invalidations): a
  // reader on shared storage that pinned manifests before a change and took its store
  // snapshot after it may see a flush's markers without its segment, and reads again.
  uint64_t Generation() const { return generation_.load(); }

  // Rows and bytes of the segments the known manifests list: those of every scope read or
  // written since start-up (a scope untouched since is not counted until it is).
  struct Totals {
    int64_t rows = 0, bytes = 0, segments = 0;
  };
  Totals KnownTotals();

 private:
  // A cached manifest and what its file was when read (a shared store rereads it when
  // the file changed).
  struct Cached {
    std::shared_ptr<const Manifest> manifest;
    std::chrono::steady_clock::time_point checked;
    uint64_t inode = 0;
    int64_t mtime_ns = 0;
  };
  std::shared_ptr<const Manifest> Load(const std::string& dir);  // mutex_ held

  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
  std::atomic<bool> shared_{false};
  std::atomic<uint64_t> generation_{0};
};

// fsync of a file or directory; false on failure (errno says why).
bool SyncPath(const std::string& path);

// Writes the segment file path: write(tmp) writes a temporary file beside it (its name
// ends in ".tmp"), which is then fsynced and linked into place, only if path does not
// exist yet: TRANSACTION_CONFLICT then (another writer made that segment). On failure the
// temporary file is gone and nothing else changed; a full disk fails with DiskFull
// (common/disk_full.h).
Status WriteSegmentFile(const std::string& path,
                        const std::function<Status(const std::string& tmp)>& write);

}  // namespace kalam::cold
