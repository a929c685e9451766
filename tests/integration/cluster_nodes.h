// What the cluster-mode tests share: a node's configuration, and the shards' leaders as
// the nodes report them through SQL (system.shards).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd_process.h"
#include "server_process.h"

namespace kalam::testing {

// A fixture base (Base: ::testing::Test or a TestWithParam) whose suite shares one etcd
// cluster of three members.
template <typename Base>
class WithEtcd : public Base {
 protected:
  static void SetUpTestSuite() {
    etcd_ = new EtcdCluster(3);
    etcd_->Start();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  static inline EtcdCluster* etcd_ = nullptr;
};

// A node of a test cluster: its [cluster] section, these keys over the tests' defaults
// (8 shards; a 2 s heartbeat TTL, so that a lost node shows soon; a free Raft port).
ServerOptions ClusterNodeOptions(const std::string& node_id, const std::string& endpoints,
                                 const std::map<std::string, std::string>& keys = {});

// A statement answered by this node from its own replicas (each caught up with its shard's
// leader), as a batch another node sent on is: how a test compares the replicas. The
// rows as JSON text; "" when it fails.
std::string ReplicaRows(const ServerProcess& server, const std::string& auth, const std::string& sql);

// system.shards through this node: shard -> its leader, for the shards with one named (and,
// with caught_up, no lag: every voter has every entry); empty when it can't be read.
std::map<int64_t, std::string> Leaders(const ServerProcess& server, bool caught_up);

// Every one of shards has a leader, named alike by each node in nodes; the map (empty
// otherwise).
std::map<int64_t, std::string> AgreedLeaders(const std::vector<ServerProcess*>& nodes, size_t shards,
                                             bool caught_up = true);

// Every shard led, named alike by every node, and no node leading more than its share
// (ceil(shards / nodes)): leadership spread by the leaders handing some over.
bool Balanced(const std::vector<ServerProcess*>& nodes, size_t shards);

// A topic message as CONSUME returns it: partition, offset, op, key.
struct TopicMessage {
  int64_t partition = 0;
  int64_t offset = 0;
  std::string op;
  std::string key;
};
// The messages of a CONSUME's answer.
std::vector<TopicMessage> TopicMessages(const SqlResponse& r);
// Every message of the topic, partition by partition, read without a group through this
// node; nullopt when a read fails.
std::optional<std::vector<TopicMessage>> WholeTopic(const ServerProcess& node, const std::string& auth,
                                                    const std::string& topic, int partitions);
// Where offsets do not run 0, 1, 2, ... in a partition ("" when they all do).
std::string OffsetGaps(const std::vector<TopicMessage>& messages);

}  // namespace kalam::testing
