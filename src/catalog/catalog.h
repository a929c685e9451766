// The catalog: users, namespaces and storages, persisted in the store's meta family and
// served from an immutable in-memory snapshot. Readers take a snapshot and never block;
// writers are serialized (DDL is rare) and publish a new snapshot after the store write.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/models.h"
#include "common/status.h"

namespace kalam::store {
class KvStore;
class WriteSet;
}

namespace kalam::catalog {

struct CatalogState {
  std::map<std::string, User> users;                  // by user_id
  std::map<std::string, std::string> user_by_name;    // username -> user_id
  std::map<std::string, Namespace> namespaces;        // by name
  std::map<std::string, Storage> storages;            // by storage_id
  std::map<std::string, TableDef> tables;             // by "ns:name"
  uint64_t next_table_num = 1;
  // The records other parts keep with the catalog (Catalog::kRecordPrefixes; topics keep
  // their definitions so), by key, opaque here: shared across a cluster as the catalog's
  // own entries are. Replaced whole when they change, so a reader can tell by the pointer.
  std::shared_ptr<const std::map<std::string, std::string>> records =
      std::make_shared<const std::map<std::string, std::string>>();

  const TableDef* FindTable(const std::string& ns, const std::string& name) const;
  size_t TableCount(const std::string& ns) const;

  const User* FindUserByName(const std::string& username) const;
  const User* FindUser(const std::string& user_id) const;
};

// The catalog's entries as a cluster shares them (cluster/etcd_catalog.h keeps them in
// etcd). Each change is made there first, and only if no other node changed the catalog
// since this one last read it; every node reads the changes of the others.
class SharedCatalog {
 public:
  virtual ~SharedCatalog() = default;
  struct Entries {
    int64_t version = 0;  // 0: nothing written yet
    std::vector<std::pair<std::string, std::string>> entries;  // the meta family's keys
  };
  virtual Result<Entries> Read() = 0;
  // The version the entries are at now (cheaper than Read).
  virtual Result<int64_t> Version() = 0;
  // Makes changes (puts and deletes of catalog keys) if the entries are still at version:
  // the new version; nullopt when another node changed them first.
  virtual Result<std::optional<int64_t>> Write(int64_t version, const store::WriteSet& changes) = 0;
};

class Catalog {
 public:
  // Loads the catalog, creating on first start the namespace `default`, the storage
  // `local` (at storage_dir) and the user `root` (role system, no password).
  static Result<std::unique_ptr<Catalog>> Open(store::KvStore& store,
                                               const std::string& storage_dir);

  std::shared_ptr<const CatalogState> snapshot() const;

  // Cluster mode: from now on the catalog is the one shared (which outlives this). A
  // cluster's first node writes its catalog there; the others take the shared one in place
  // of their own, keeping `local` at their own storage directory.
  Status Share(SharedCatalog* shared);
  // Takes the changes other nodes made since the last look (a no-op when there are none
  // or the catalog is not shared). A change made here while another node's was unseen is
  // made again on the fresher catalog, a few times, then refused with TRANSACTION_CONFLICT.
  Status Refresh();
  // Refresh, unless this node has the shared catalog at version already.
  Status RefreshTo(int64_t version);
  // Cluster mode: Refresh, saying whether the shared catalog had changes this node had not
  // taken (so a name not found here a moment ago may be found now). False when the catalog
  // is not shared or cannot be read.
  bool CaughtUpWithNewer();
  // Cluster mode: called after each change this node made to the shared catalog, with its
  // version, once the writers' lock is free (a change only a sign-in's bookkeeping makes,
  // last_seen and the refresh-token families, is not announced). The server tells the other
  // nodes, so a statement through any of them sees the change once it is acknowledged. Set
  // before the first change.
  void SetAnnouncer(std::function<void(int64_t version)> announcer) { announcer_ = std::move(announcer); }
  // Cluster mode: called with the tables another node dropped (or that a joining node's
  // own catalog had and the cluster's lacks), once this node has taken that change, outside
  // the writers' lock: the server removes their rows, subscriptions and files, as DROP
  // TABLE does where it runs. A table whose number the cluster uses for another table is
  // not among them. Set before Share.
  void SetOnTablesGone(std::function<void(const std::vector<TableDef>&)> gone) { on_tables_gone_ = std::move(gone); }

  // Namespaces. Names are validated here (^[a-z][a-z0-9_]*$, at most 64 bytes).
  Status CreateNamespace(const std::string& name, bool if_not_exists);
  // Refused while the namespace holds tables, unless cascade; then the tables go too and
  // are returned, so their rows can be removed.
  Result<std::vector<TableDef>> DropNamespace(const std::string& name, bool if_exists,
                                              bool cascade);
  Status SetNamespaceOptions(const std::string& name,
                             const std::map<std::string, std::string>& json_options);

  // Users. CreateUser fills user_id, created_at, updated_at.
  // Returns ALREADY_EXISTS unless if_not_exists (then Ok without change).
  Status CreateUser(User user, bool if_not_exists);
  // Changes the user user_id as now stored, under the writers' lock, so concurrent changes
  // of one user never undo each other. change edits the record and returns whether to store
  // it (user_id and username stay). A change of password, role or deletion also revokes the
  // user's tokens (RevokesTokens). NOT_FOUND when there is no such user.
  Status ModifyUser(const std::string& user_id, const std::function<bool(User&)>& change);

  // Tables. CreateTable fills table_num and created_at; the namespace must exist.
  // Returns false (and changes nothing) when it exists and if_not_exists.
  Result<bool> CreateTable(TableDef table, bool if_not_exists);
  // The dropped table (nullopt when absent and if_exists).
  Result<std::optional<TableDef>> DropTable(const std::string& ns, const std::string& name,
                                            bool if_exists);
  // Replaces the stored definition (ALTER TABLE appends a schema version).
  Status UpdateTable(const TableDef& table);

  // Records of other parts (keys under kRecordPrefixes, in the meta family). change reads
  // the records as they are and adds its puts and deletes of them to changes; they are
  // made (in the shared catalog first, in cluster mode) and published. change may run
  // again, on fresher records, when another node changed the catalog first.
  static constexpr std::string_view kRecordPrefixes[] = {"topic/", "counter/next_topic_num"};
  using Records = std::map<std::string, std::string>;
  Status ChangeRecords(const std::function<Status(const Records& records, store::WriteSet& changes)>& change);

  // Storages. Templates are validated here; `local` can't be dropped, nor a storage a
  // table uses.
  Status CreateStorage(Storage storage, bool if_not_exists);
  Status UpdateStorage(const Storage& storage);
  Status DropStorage(const std::string& id, bool if_exists);
  // A template is relative, stays inside its base directory, and uses only {namespace},
  // {tableName} and {userId}; a USER template must hold {userId}, a SHARED one must not.
  static Status ValidateTemplate(const std::string& text, bool user_tables);

  static Status ValidateNamespaceName(const std::string& name);
  static Status ValidateUsername(const std::string& username);
  static Status ValidateTableName(const std::string& name);

 private:
  Catalog(store::KvStore& store, std::string storage_dir)
      : store_(store), storage_dir_(std::move(storage_dir)) {}
  // REQUIRES (LoadLocked, Bootstrap, Persist, RefreshLocked, Adopt, Publish): write_mutex_ held.
  Status Load();
  Status LoadLocked();
  Status Bootstrap();
  void Publish(std::shared_ptr<const CatalogState> next);
  // Runs change (which reads snapshot() and writes through Persist) under the writers' lock;
  // again after taking the shared catalog's news when another node changed it first.
  template <typename F>
  auto Changing(F&& change) -> decltype(change());
  template <typename F>
  auto ChangingLocked(F&& change) -> decltype(change());
  // Makes changes durable: in the shared catalog first, when there is one.
  Status Persist(const store::WriteSet& changes);
  Status RefreshLocked();
  Status ShareLocked(SharedCatalog* shared);
  // Makes this node's catalog the shared one's entries, at their version.
  Status Adopt(const SharedCatalog::Entries& shared);
  // The catalog's own keys in the meta family, with their values.
  Result<std::vector<std::pair<std::string, std::string>>> LocalEntries();

  store::KvStore& store_;
  const std::string storage_dir_;  // where `local` is on this node
  std::mutex write_mutex_;  // one writer at a time
  SharedCatalog* shared_ = nullptr;
  int64_t shared_version_ = 0;
  bool stale_ = false;  // the last Persist found the shared catalog changed by another node
  std::function<void(int64_t)> announcer_;
  std::function<void(const std::vector<TableDef>&)> on_tables_gone_;
  // Tables Adopt found gone, until TellTablesGone hands them on (after the writers' lock).
  std::mutex gone_mutex_;
  std::vector<TableDef> gone_;
  void TellTablesGone();
  int64_t announce_ = 0;  // the version the change under way made, to announce (0: none)
  bool quiet_ = false;    // the change under way is not announced
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const CatalogState> state_;
};

}  // namespace kalam::catalog
