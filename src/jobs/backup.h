// BACKUP DATABASE and RESTORE DATABASE: a copy of everything a data directory holds, as of
// one moment, and putting such a copy back.
//
// A backup directory holds:
//   rocksdb/           a RocksDB checkpoint (catalog, hot rows, markers, jobs, _seq)
//   storage/           the data directory's storage/ tree (the local storage's segments
//                      and manifests)
//   storages/<id>/     the segments and manifests of each storage whose base directory lies
//                      elsewhere
//   files/             the data directory's own files (the generated JWT secret)
//   backup.json        what it is: format, when, the last _seq it holds, where each
//                      storage lived
// It is consistent because the caller runs it with flushes and compactions held off: the
// checkpoint and the manifests then describe the same moment (writes go on; they land
// after the checkpoint and are not in the backup).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace kalam::store {
class KvStore;
}

namespace kalam::jobs {

// The path, made absolute and normal, when it lies under one of allowed; else why not
// (PERMISSION_DENIED naming [backup] allowed_directories).
Result<std::string> AllowedBackupPath(const std::string& path, const std::vector<std::string>& allowed);

// Writes the backup into target (which must not exist, or be an empty directory); the JSON
// result says what it holds. REQUIRES: no flush or compaction runs meanwhile.
Result<std::string> BackupDatabase(store::KvStore& store, const catalog::CatalogState& state,
                                   const std::string& data_dir, const std::string& target,
                                   int64_t last_seq, const std::function<bool()>& cancelled);

// Checks that dir holds a backup (its backup.json and rocksdb/).
Status CheckBackup(const std::string& dir);

// Puts a backup into data_dir, which must not exist or be empty (offline: no server runs on
// it). Storages that lived elsewhere go back to their directories, which must not hold
// files already.
Status RestoreDatabase(const std::string& backup_dir, const std::string& data_dir);

// RESTORE DATABASE: the backup is checked now and put in place at the next start.
Status StageRestore(const std::string& backup_dir, const std::string& data_dir);
// At start-up, before the store opens: when a restore is staged, the current contents move
// aside to <data_dir>/replaced-<time>/ and the backup is put in place. Returns whether one ran.
Result<bool> ApplyStagedRestore(const std::string& data_dir);

}  // namespace kalam::jobs
