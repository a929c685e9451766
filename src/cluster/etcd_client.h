// A small blocking client of etcd's v3 API through its JSON gateway (POST /v3/kv/range,
// /v3/kv/txn, /v3/lease/grant, ...): the placement service of cluster mode. It speaks
// to one endpoint at a time and moves to the next when one can't be reached, so any
// member of the etcd cluster serves it. Keys and values are bytes (the gateway's JSON
// carries them base64-encoded). Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "common/status.h"

namespace kalam::cluster {

struct EtcdKv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;  // 0: none
};

struct EtcdLease {
  int64_t id = 0;
  int64_t ttl_secs = 0;
};

// One comparison of a transaction (etcd's Compare), on one key.
struct EtcdCompare {
  enum class Target { kCreateRevision, kModRevision, kValue };
  std::string key;
  Target target = Target::kCreateRevision;
  int64_t revision = 0;  // kCreateRevision / kModRevision: equal to this (0: key absent)
  std::string value;     // kValue: equal to this
};

// One request of a transaction's branch: a put (with a lease, 0: none) or a delete.
struct EtcdOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
  int64_t lease = 0;
};

struct EtcdTxnResult {
  bool succeeded = false;  // every comparison held: the success branch ran
  int64_t revision = 0;    // the store's revision after the transaction
};

class EtcdClient {
 public:
  // endpoints: http://host:port URLs. Each request fails after timeout per endpoint.
  EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);

  // The key's value, or nullopt when absent.
  Result<std::optional<EtcdKv>> Get(const std::string& key);
  // Every key starting with prefix, in key order.
  Result<std::vector<EtcdKv>> List(const std::string& prefix);
  // Puts the key (attached to the lease when not 0); the new revision.
  Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Deletes the key; how many keys went.
  Result<int64_t> Delete(const std::string& key);
  // Runs success when every comparison holds, otherwise failure, atomically.
  Result<EtcdTxnResult> Txn(const std::vector<EtcdCompare>& compare,
                            const std::vector<EtcdOp>& success,
                            const std::vector<EtcdOp>& failure = {});

  // The key's value: the one stored, else value, stored now (whoever stores it first, all
  // callers get the same).
  Result<std::string> CreateOrRead(const std::string& key, const std::string& value);

  Result<EtcdLease> GrantLease(int64_t ttl_secs);
  // Renews the lease; its remaining TTL in seconds, 0 when it has expired (then its keys
  // are gone).
  Result<int64_t> KeepAlive(int64_t lease);
  Status RevokeLease(int64_t lease);

  // The endpoint the last request went to.
  const std::string& endpoint() const { return endpoints_[current_]; }

 private:
  // POSTs body to path on the current endpoint, trying the others in turn when it can't
  // be reached; the answer's JSON text. An etcd error answer becomes a Status.
  Result<std::string> Call(const std::string& path, const std::string& body);

  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
  size_t current_ = 0;
  std::optional<client::HttpClient> http_;
};

// The end of the key range holding every key that starts with prefix (etcd's range_end).
std::string PrefixEnd(const std::string& prefix);

}  // namespace kalam::cluster
