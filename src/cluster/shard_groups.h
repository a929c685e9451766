// The Raft groups of the shards this node holds (cluster mode): one libraft group per
// shard, replicating the shard's log to its replicas, all of them run by one libuv loop
// thread and reached through the node's one Raft port (cluster/raft_port.h).
//
// An entry proposed on the shard's leader is acknowledged once a quorum of the replicas
// has it on disk and this node has applied it; every replica applies the shard's entries
// in log order through its ShardStateMachine.
//
// Membership follows the shard map in etcd (cluster/placement.h): a node runs the group of
// every shard that lists it; the replicas a shard was created with start the group
// together (Raft's bootstrap); a replica added later starts empty, and the group's leader
// adds it (as a voter, once it has caught up on the log) — one change at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalam::cluster {

struct ShardGroupsOptions {
  std::string node_id;
  // Where the groups keep their logs: <dir>/shard-<nnnn>/.
  std::string dir;
  // The Raft port: bound on bind_host (an IPv4 address), reached by others at address
  // (host:port, the host an IPv4 address).
  std::string bind_host;
  uint16_t port = 0;
  std::string address;
  // A follower that hears nothing from its leader for this long (plus a random part of
  // it) stands for election. Lower: faster failover, more needless elections on a busy
  // machine.
  unsigned election_timeout_ms = 500;
  unsigned heartbeat_timeout_ms = 100;
  // A leader answers reads only while a majority of its shard's voters answered it within
  // this long (0: four fifths of election_timeout_ms). A follower that heard from a leader
  // grants no vote for at least election_timeout_ms, so no other leader can have taken a
  // write meanwhile (a leader cut off stops reading before the others elect a new one).
  unsigned read_lease_ms = 0;
  // A replica compacts its log into a snapshot every snapshot_threshold entries, keeping
  // the last snapshot_trailing (a follower further behind gets the snapshot).
  unsigned snapshot_threshold = 8192;
  unsigned snapshot_trailing = 2048;
  // A snapshot sent to a replica that has not answered within this long is sent again.
  // libraft's default (30 s) left a replica whose answer was lost (seen when it had just
  // restarted, on a loaded machine) stuck at the snapshot's index for 30 s.
  unsigned install_snapshot_timeout_ms = 10000;
  // A node leading more than its share of the groups hands some to other voters.
  bool balance_leaders = true;
  // Who leads a shard this node holds no replica of, as far as the cluster has said (the
  // leaders' heartbeats): named in the refusal, so the request is sent on there. Called
  // on the groups' loop thread; must not block long.
  std::function<std::optional<std::string>(int32_t shard)> leader_hint;
  // Whether subscribers on another node wait for shard's changes: as its leader, this node
  // then tells the followers of a commit within ~10 ms (an empty barrier), not 50. Called
  // on the groups' thread.
  std::function<bool(int32_t shard)> followers_watch;
};

// What the shards' entries do on a replica. Called on the loop thread, one call at a time.
class ShardStateMachine {
 public:
  virtual ~ShardStateMachine() = default;
  // The entry at index of shard's log. An error stops the group applying (it retries the
  // entry later): the replica must not skip an entry.
  virtual Status Apply(int32_t shard, uint64_t index, std::string_view entry) = 0;
  // The shard's state as of the last applied entry, to compact the log and to send to a
  // replica too far behind.
  virtual Result<std::string> Snapshot(int32_t shard) = 0;
  // Replaces the shard's state with a snapshot's.
  virtual Status Restore(int32_t shard, std::string_view snapshot) = 0;
  // The shard's replica moved to another node: its state here goes. Called on another
  // thread than the loop's, while the shard's group is not running.
  virtual Status Forget(int32_t shard) = 0;
};

// What the shard map says of one shard.
struct ShardPlan {
  std::vector<std::string> replicas;  // node ids
  std::vector<std::string> initial;   // the replicas it was created with
};
struct ClusterPlan {
  std::map<int32_t, ShardPlan> shards;
  std::map<std::string, std::string> raft_addresses;  // node id -> host:port of its Raft port
};

// One group as this node sees it.
struct GroupView {
  int32_t shard = 0;
  std::string leader;  // node id; empty while none is known
  std::vector<std::string> voters;
  uint64_t applied_index = 0;  // on this node
  // On the leader: the entries the furthest-behind replica lacks (a replica the plan lists
  // that does not vote yet lacks them all). Elsewhere: committed entries this replica has
  // not applied yet.
  uint64_t lag = 0;
  // On the leader, once the group's members are exactly the plan's replicas, every one a
  // voter: those replicas, sorted, comma-separated (the placement leader moves another
  // replica only once every shard's leader reports its current list so). Else empty.
  std::string settled_on;
};

class ShardGroups {
 public:
  // Listens on the Raft port and starts the loop thread; no group runs until Update.
  static Result<std::unique_ptr<ShardGroups>> Start(ShardGroupsOptions options, ShardStateMachine* machine);
  // Closes every group (its log stays on disk) and the port.
  ~ShardGroups();
  ShardGroups(const ShardGroups&) = delete;
  ShardGroups& operator=(const ShardGroups&) = delete;

  // Runs the groups of the shards that list this node (a group already running goes on);
  // the leaders add the replicas the plan lists and their groups lack.
  void Update(ClusterPlan plan);

  // Appends entry to shard's log and waits until it is committed and applied here.
  // NOT_FOUND: this node does not hold the shard; SERVICE_UNAVAILABLE: it does not lead
  // it (the message names the leader when known); STATEMENT_TIMEOUT: no answer within
  // timeout (the entry may still commit).
  Status Propose(int32_t shard, std::string entry, std::chrono::milliseconds timeout);
  // Proposes every (shard, entry) at once; each one's outcome, in order, as Propose's.
  // An entry's fence (a LeadershipEpoch() read before its statements read anything): it
  // is refused (SERVICE_UNAVAILABLE) unless this node has led its shard, with every
  // earlier term's entry applied, since before the fence — what the statements read here
  // was then the shard's latest. kNoFence: the entry waits for the leader's barrier.
  // fences: one per entry (empty: none).
  static constexpr uint64_t kNoFence = UINT64_MAX;
  std::vector<Status> ProposeAll(std::vector<std::pair<int32_t, std::string>> entries,
                                 std::chrono::milliseconds timeout, std::vector<uint64_t> fences = {});
  // Counts the times a shard here became readable at its leader (a new term's barrier
  // applied) or began handing leadership over.
  uint64_t LeadershipEpoch() const;
  // While this node leads shard (caught up, not handing it over): the LeadershipEpoch at
  // which it began to; 0 otherwise. It changes whenever leadership here is lost and won
  // again, so what was cached of the shard while leading it can be checked (no waiting).
  uint64_t LedSince(int32_t shard) const;

  // Ok once this node leads shard with every entry of the earlier terms applied, and holds
  // its read lease (a majority answered within read_lease_ms), so a read of its store sees
  // every write acknowledged so far. Otherwise SERVICE_UNAVAILABLE as Propose's: naming
  // the leader when known. Waits for the leader's barrier and lease at most timeout.
  Status ReadAtLeader(int32_t shard, std::chrono::milliseconds timeout);
  // On the leader, as ReadAtLeader: the index of the last entry of shard applied here (of
  // those with rows): a replica that has applied it holds every write acknowledged so far.
  Result<uint64_t> ReadIndex(int32_t shard, std::chrono::milliseconds timeout);
  // Waits until this node has applied shard's log up to index; SERVICE_UNAVAILABLE when it
  // hasn't within timeout, and at once ("holds no replica", naming the leader as known)
  // when this node runs no group of the shard, or stops running it meanwhile: the rows of
  // a replica that left are not read.
  Status WaitApplied(int32_t shard, uint64_t index, std::chrono::milliseconds timeout);

  // The groups running here, by shard (refreshed every heartbeat_timeout_ms).
  std::vector<GroupView> Groups() const;

  // The node a Propose's SERVICE_UNAVAILABLE names as the shard's leader, if it names one.
  static std::optional<std::string> LeaderNamedIn(const Status& refused);

  // The Raft id of a node: a hash of its node id, never 0.
  static uint64_t RaftId(const std::string& node_id);

  struct Impl;

 private:
  explicit ShardGroups(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kalam::cluster
