// The catalog a cluster shares, kept in etcd (cluster mode). Keys, under [cluster]
// etcd_prefix:
//   catalog/version           written by every change: its mod revision is the version
//   catalog/entries/<key>     one catalog entry (user/..., ns/..., storage/..., table/...,
//                             counter/next_table_num), its value as the meta family has it
// A change is one etcd transaction that holds only while catalog/version is at the
// version the node last read, so two nodes' changes never interleave.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "cluster/etcd_client.h"

namespace kalam::cluster {

class EtcdCatalog final : public catalog::SharedCatalog {
 public:
  EtcdCatalog(std::vector<std::string> endpoints, std::string prefix,
              std::chrono::milliseconds timeout)
      : etcd_(std::move(endpoints), timeout), prefix_(std::move(prefix)) {}

  Result<Entries> Read() override;
  Result<int64_t> Version() override;
  // INVALID_INPUT for a change etcd would refuse as too large (more than its default
  // --max-txn-ops of 128 keys in one transaction).
  Result<std::optional<int64_t>> Write(int64_t version, const store::WriteSet& changes) override;

 private:
  std::string VersionKey() const { return prefix_ + "catalog/version"; }
  std::string EntriesPrefix() const { return prefix_ + "catalog/entries/"; }

  std::mutex mutex_;  // the client is one caller's at a time
  EtcdClient etcd_;
  const std::string prefix_;
};

}  // namespace kalam::cluster
