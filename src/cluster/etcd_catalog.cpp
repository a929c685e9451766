#include "cluster/etcd_catalog.h"

#include "store/kv_store.h"

namespace kalam::cluster {
namespace {

// etcd's default --max-txn-ops, less the version key's put.
constexpr size_t kMaxChanges = 127;

}  // namespace

Result<catalog::SharedCatalog::Entries> EtcdCatalog::Read() {
  std::lock_guard lock(mutex_);
  // One range over both, so the entries are the version's.
  auto listed = etcd_.List(prefix_ + "catalog/");
  if (!listed.ok()) return listed.status();
  Entries out;
  const std::string version_key = VersionKey();
  const std::string entries_prefix = EntriesPrefix();
  for (EtcdKv& kv : *listed) {
    if (kv.key == version_key) {
      out.version = kv.mod_revision;
    } else if (kv.key.starts_with(entries_prefix)) {
      out.entries.emplace_back(kv.key.substr(entries_prefix.size()), std::move(kv.value));
    }
  }
  return out;
}

Result<int64_t> EtcdCatalog::Version() {
  std::lock_guard lock(mutex_);
  auto kv = etcd_.Get(VersionKey());
  if (!kv.ok()) return kv.status();
  return kv->has_value() ? (*kv)->mod_revision : 0;
}

Result<std::optional<int64_t>> EtcdCatalog::Write(int64_t version, const store::WriteSet& changes) {
  if (changes.size() > kMaxChanges) {
    return Status(Code::kInvalidInput,
                  "a catalog change of " + std::to_string(changes.size()) +
                      " entries is more than etcd takes in one transaction (" +
                      std::to_string(kMaxChanges) + "); make it in smaller steps");
  }
  std::vector<EtcdOp> ops;
  ops.reserve(changes.size() + 1);
  for (const store::WriteSet::Op& op : changes.ops()) {
    if (op.family != store::Family::kMeta || op.range_end) {
      return Status(Code::kInternalError, "a catalog change may only put and delete meta keys");
    }
    if (op.value) {
      ops.push_back({EtcdOp::Kind::kPut, EntriesPrefix() + op.key, *op.value, 0});
    } else {
      ops.push_back({EtcdOp::Kind::kDelete, EntriesPrefix() + op.key, "", 0});
    }
  }
  ops.push_back({EtcdOp::Kind::kPut, VersionKey(), "", 0});
  std::lock_guard lock(mutex_);
  auto txn = etcd_.Txn({{VersionKey(), EtcdCompare::Target::kModRevision, version, ""}}, ops);
  if (!txn.ok()) return txn.status();
  if (!txn->succeeded) return std::optional<int64_t>();
  return std::optional<int64_t>(txn->revision);
}

}  // namespace kalam::cluster
