// Shard groups of three nodes in one process: real libraft groups, their logs on disk,
// talking over loopback TCP through each node's one Raft port.
#include "cluster/shard_groups.h"

#include <gtest/gtest.h>

#include <map>
#include <sys/time.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "loopback.h"

namespace kalam::cluster {
namespace {

using namespace std::chrono_literals;

// Keeps each shard's applied entries in memory; the snapshot is the list itself.
class ListMachine final : public ShardStateMachine {
 public:
  Status Apply(int32_t shard, uint64_t index, std::string_view entry) override {
    std::lock_guard lock(mutex_);
    auto& list = entries_[shard];
    if (!list.empty() && index <= list.back().first) {
      return {Code::kInternalError, "index " + std::to_string(index) + " applied twice"};
    }
    list.emplace_back(index, std::string(entry));
    return Status::Ok();
  }
  Result<std::string> Snapshot(int32_t shard) override {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [index, entry] : entries_[shard]) out += std::to_string(index) + " " + entry + "\n";
    return out;
  }
  Status Restore(int32_t shard, std::string_view snapshot) override {
    std::lock_guard lock(mutex_);
    auto& list = entries_[shard];
    list.clear();
    std::istringstream in{std::string(snapshot)};
    uint64_t index = 0;
    std::string entry;
    while (in >> index >> entry) list.emplace_back(index, entry);
    return Status::Ok();
  }
  Status Forget(int32_t shard) override {
    std::lock_guard lock(mutex_);
    entries_.erase(shard);
    ++forgotten_;
    return Status::Ok();
  }
  int forgotten() {
    std::lock_guard lock(mutex_);
    return forgotten_;
  }
  std::vector<std::string> Entries(int32_t shard) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [index, entry] : entries_[shard]) out.push_back(entry);
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<int32_t, std::vector<std::pair<uint64_t, std::string>>> entries_;
  int forgotten_ = 0;
};

bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline = 10s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

class ShardGroupsTest : public ::testing::Test {
 protected:
  static constexpr int kNodes = 3;
  // Snapshots every 16 entries where a test says so: restarts and newcomers go through them.
  static constexpr unsigned kEvery = 16;

  void SetUp() override {
    char pattern[] = "/tmp/kalamdb-raft-unit-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    for (int i = 0; i < kNodes; ++i) {
      names_.push_back("node-" + std::to_string(i + 1));
      ports_.push_back(FreePort());
      machines_.push_back(std::make_unique<ListMachine>());
      nodes_.emplace_back();
      plan_.raft_addresses[names_[i]] = "127.0.0.1:" + std::to_string(ports_[i]);
    }
  }
  void TearDown() override {
    nodes_.clear();
    std::filesystem::remove_all(dir_);
  }

  // Leaders stay where they were elected unless balance_leaders (the tests that name a
  // leader and write through it need it to stay put).
  void StartNode(int i, unsigned snapshot_threshold = 8192, bool balance_leaders = false,
                 unsigned election_timeout_ms = 500, unsigned read_lease_ms = 0, unsigned heartbeat_timeout_ms = 100) {
    ShardGroupsOptions o;
    o.election_timeout_ms = election_timeout_ms;
    o.heartbeat_timeout_ms = heartbeat_timeout_ms;
    o.read_lease_ms = read_lease_ms;
    o.balance_leaders = balance_leaders;
    o.node_id = names_[i];
    o.dir = dir_ + "/" + names_[i];
    o.bind_host = "127.0.0.1";
    o.port = ports_[i];
    o.address = plan_.raft_addresses[names_[i]];
    o.snapshot_threshold = snapshot_threshold;
    o.snapshot_trailing = snapshot_threshold / 2;
    auto started = ShardGroups::Start(o, machines_[i].get());
    ASSERT_TRUE(started.ok()) << started.status().message();
    nodes_[i] = std::move(started).value();
    nodes_[i]->Update(plan_);
  }

  // The node (index) every running node names as shard's leader; -1 until they agree.
  int Leader(int32_t shard) {
    std::string leader;
    for (int i = 0; i < kNodes; ++i) {
      if (!nodes_[i]) continue;
      for (const GroupView& v : nodes_[i]->Groups()) {
        if (v.shard != shard) continue;
        if (v.leader.empty() || (!leader.empty() && v.leader != leader)) return -1;
        leader = v.leader;
      }
    }
    for (int i = 0; i < kNodes; ++i) {
      if (names_[i] == leader && nodes_[i]) return i;
    }
    return -1;
  }
  int AwaitLeader(int32_t shard) {
    int leader = -1;
    PollUntil([&] { return (leader = Leader(shard)) >= 0; });
    return leader;
  }

  std::string dir_;
  std::vector<std::string> names_;
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<ListMachine>> machines_;
  std::vector<std::unique_ptr<ShardGroups>> nodes_;
  ClusterPlan plan_;
};

TEST_F(ShardGroupsTest, EveryReplicaAppliesTheSameEntriesInLogOrder) {
  for (int32_t shard = 0; shard < 4; ++shard) plan_.shards[shard] = {names_, names_};
  for (int i = 0; i < kNodes; ++i) StartNode(i);
  for (int32_t shard = 0; shard < 4; ++shard) {
    const int leader = AwaitLeader(shard);
    ASSERT_GE(leader, 0) << "shard " << shard << " elected no leader";
    for (int n = 0; n < 30; ++n) {
      const Status s = nodes_[leader]->Propose(shard, "s" + std::to_string(shard) + "-" + std::to_string(n), 5s);
      ASSERT_TRUE(s.ok()) << s.message();
    }
    // Acknowledged: applied on the leader already.
    EXPECT_EQ(machines_[leader]->Entries(shard).size(), 30u);
  }
  for (int32_t shard = 0; shard < 4; ++shard) {
    const int leader = AwaitLeader(shard);
    ASSERT_GE(leader, 0);
    const std::vector<std::string> expected = machines_[leader]->Entries(shard);
    for (int i = 0; i < kNodes; ++i) {
      EXPECT_TRUE(PollUntil([&] { return machines_[i]->Entries(shard) == expected; }))
          << names_[i] << " differs on shard " << shard;
    }
  }
  for (int i = 0; i < kNodes; ++i) {
    for (const GroupView& v : nodes_[i]->Groups()) EXPECT_EQ(v.voters.size(), 3u);
  }
}

// Followers learn of a commit from the leader's next message. An idle leader sends one
// only every heartbeat; it tells them at once instead, so that their subscribers hear of
// a change, and reads through them see it, within milliseconds (here the heartbeat is a
// second and a half apart: without that, each entry would reach them seconds later).
TEST_F(ShardGroupsTest, AnIdleLeaderTellsTheFollowersOfACommitAtOnce) {
  plan_.shards[0] = {names_, names_};
  for (int i = 0; i < kNodes; ++i) StartNode(i, 8192, false, /*election_timeout_ms=*/6000, 0, /*heartbeat_timeout_ms=*/1500);
  int leader = -1;
  ASSERT_TRUE(PollUntil([&] { return (leader = Leader(0)) >= 0; }, 30s)) << "no leader";
  for (int n = 0; n < 5; ++n) {
    const std::string entry = "e" + std::to_string(n);
    const Status s = nodes_[leader]->Propose(0, entry, 5s);
    ASSERT_TRUE(s.ok()) << s.message();
    for (int i = 0; i < kNodes; ++i) {
      EXPECT_TRUE(PollUntil(
          [&] {
            const std::vector<std::string> applied = machines_[i]->Entries(0);
            return !applied.empty() && applied.back() == entry;
          },
          1000ms))
          << names_[i] << " applied entry " << n << " no sooner than a heartbeat later";
    }
  }
}

TEST_F(ShardGroupsTest, LeadershipSpreadsOverTheVoters) {
  // Node 0 founds six groups alone, then the others join every one of them: node 0 leads
  // all six until it hands them over, two each.
  for (int32_t shard = 0; shard < 6; ++shard) plan_.shards[shard] = {{names_[0]}, {names_[0]}};
  StartNode(0, 8192, true);
  for (int32_t shard = 0; shard < 6; ++shard) ASSERT_EQ(AwaitLeader(shard), 0);
  for (int32_t shard = 0; shard < 6; ++shard) plan_.shards[shard].replicas = names_;
  nodes_[0]->Update(plan_);
  for (int i = 1; i < kNodes; ++i) StartNode(i, 8192, true);
  std::map<int, int> led;
  ASSERT_TRUE(PollUntil(
      [&] {
        led.clear();
        for (int32_t shard = 0; shard < 6; ++shard) {
          const int leader = Leader(shard);
          if (leader < 0) return false;
          ++led[leader];
        }
        return led.size() == 3 && led[0] == 2 && led[1] == 2 && led[2] == 2;
      },
      20s))
      << led[0] << " " << led[1] << " " << led[2];
  // Writes go on through the new leaders.
  for (int32_t shard = 0; shard < 6; ++shard) {
    ASSERT_TRUE(PollUntil([&] {
      const int leader = Leader(shard);
      return leader >= 0 && nodes_[leader]->Propose(shard, "after", 5s).ok();
    }));
  }
}

TEST_F(ShardGroupsTest, OnlyTheLeaderTakesWritesAndFollowersNameIt) {
  plan_.shards[0] = {names_, names_};
  plan_.shards[1] = {{names_[0]}, {names_[0]}};  // held by node-1 alone
  for (int i = 0; i < kNodes; ++i) StartNode(i);
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % kNodes;
  const Status refused = nodes_[follower]->Propose(0, "x", 5s);
  EXPECT_EQ(refused.code(), Code::kServiceUnavailable);
  EXPECT_NE(refused.message().find("'" + names_[leader] + "'"), std::string::npos) << refused.message();
  const Status not_held = nodes_[1]->Propose(1, "x", 5s);
  EXPECT_EQ(not_held.code(), Code::kNotFound) << not_held.message();
  EXPECT_EQ(nodes_[2]->Propose(7, "x", 5s).code(), Code::kNotFound);
  // A group of one commits alone.
  ASSERT_TRUE(PollUntil([&] { return nodes_[0]->Propose(1, "alone", 5s).ok(); }));
  EXPECT_EQ(machines_[0]->Entries(1), std::vector<std::string>{"alone"});
}

TEST_F(ShardGroupsTest, ReadsAreAnsweredByALeaderThatHasAppliedWhatEarlierLeadersCommitted) {
  plan_.shards[0] = {names_, names_};
  for (int i = 0; i < kNodes; ++i) StartNode(i);
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  EXPECT_TRUE(nodes_[leader]->ReadAtLeader(0, 5s).ok());
  const int follower = (leader + 1) % kNodes;
  const Status refused = nodes_[follower]->ReadAtLeader(0, 5s);
  EXPECT_EQ(refused.code(), Code::kServiceUnavailable);
  EXPECT_EQ(ShardGroups::LeaderNamedIn(refused), names_[leader]) << refused.message();
  EXPECT_EQ(nodes_[follower]->ReadAtLeader(7, 5s).code(), Code::kServiceUnavailable);  // not held here
  std::vector<std::string> written;
  for (int n = 0; n < 30; ++n) {
    written.push_back("w" + std::to_string(n));
    ASSERT_TRUE(nodes_[leader]->Propose(0, written.back(), 5s).ok());
  }
  // The next leader answers reads only once it has applied every entry its predecessor
  // committed.
  nodes_[leader].reset();
  int next = -1;
  ASSERT_TRUE(PollUntil([&] {
    for (int i = 0; i < kNodes; ++i) {
      if (nodes_[i] && nodes_[i]->ReadAtLeader(0, 5s).ok()) {
        next = i;
        return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(machines_[next]->Entries(0), written);
}

// A write fenced before its node led the shard (caught up) is refused: what its statement
// read may lack another leader's writes. Fenced after, it is taken; unfenced, it waits
// for the leader's barrier as before.
TEST_F(ShardGroupsTest, AWriteFencedBeforeItsNodeLedTheShardIsRefused) {
  plan_.shards[0] = {names_, names_};
  for (int i = 0; i < kNodes; ++i) StartNode(i);
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(nodes_[leader]->ReadAtLeader(0, 5s).ok());
  const uint64_t led = nodes_[leader]->LeadershipEpoch();
  EXPECT_TRUE(nodes_[leader]->ProposeAll({{0, "fenced after"}}, 5s, {led}).front().ok());
  const Status stale = nodes_[leader]->ProposeAll({{0, "fenced before"}}, 5s, {led - 1}).front();
  EXPECT_EQ(stale.code(), Code::kServiceUnavailable) << stale.message();
  EXPECT_TRUE(nodes_[leader]->ProposeAll({{0, "unfenced"}}, 5s).front().ok());
  // The next leader: a fence read on it before it led is refused there too.
  const int next = (leader + 1) % kNodes;
  const uint64_t before = nodes_[next]->LeadershipEpoch();
  nodes_[leader].reset();
  ASSERT_TRUE(PollUntil([&] {
    for (int i = 0; i < kNodes; ++i) {
      if (nodes_[i] && nodes_[i]->ReadAtLeader(0, 1s).ok()) return true;
    }
    return false;
  }));
  if (nodes_[next]->ReadAtLeader(0, 1s).ok()) {
    EXPECT_EQ(nodes_[next]->ProposeAll({{0, "stale"}}, 5s, {before}).front().code(), Code::kServiceUnavailable);
    EXPECT_TRUE(nodes_[next]->ProposeAll({{0, "fresh"}}, 5s, {nodes_[next]->LeadershipEpoch()}).front().ok());
  }
  for (int i = 0; i < kNodes; ++i) {
    if (!nodes_[i]) continue;
    EXPECT_TRUE(PollUntil([&] {
      const auto entries = machines_[i]->Entries(0);
      return std::find(entries.begin(), entries.end(), "fenced before") == entries.end() &&
             std::find(entries.begin(), entries.end(), "fenced after") != entries.end() &&
             std::find(entries.begin(), entries.end(), "unfenced") != entries.end();
    }));
    const auto entries = machines_[i]->Entries(0);
    EXPECT_EQ(std::find(entries.begin(), entries.end(), "stale"), entries.end());
  }
}

// A leader answers reads while a majority answers it within its read lease: an idle group
// keeps it (heartbeats renew it); cut off from both followers, the leader refuses reads
// once the lease runs out — here 300 ms, long before the library's own step-down after
// the 3 s election timeout, which is when it stopped reading before the lease.
TEST_F(ShardGroupsTest, ALeaderCutOffStopsAnsweringReadsWhenItsLeaseRunsOut) {
  plan_.shards[0] = {names_, names_};
  for (int i = 0; i < kNodes; ++i) StartNode(i, 8192, false, 3000, 300);
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(nodes_[leader]->ReadAtLeader(0, 5s).ok());
  const auto idle_until = std::chrono::steady_clock::now() + 1500ms;
  int reads = 0;
  while (std::chrono::steady_clock::now() < idle_until) {
    const Status read = nodes_[leader]->ReadAtLeader(0, 1s);
    ASSERT_TRUE(read.ok()) << "after " << reads << " reads: " << read.message();
    ++reads;
  }
  for (int i = 0; i < kNodes; ++i) {
    if (i != leader) nodes_[i].reset();
  }
  EXPECT_TRUE(PollUntil([&] { return !nodes_[leader]->ReadAtLeader(0, 0ms).ok(); }, 2s))
      << "a leader cut off from every follower still answers reads 2 s later";
}

TEST_F(ShardGroupsTest, LosingTheLeaderElectsAnotherAndTheReturningNodeCatchesUp) {
  plan_.shards[0] = {names_, names_};
  for (int i = 0; i < kNodes; ++i) StartNode(i, kEvery);
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  std::vector<std::string> written;
  for (int n = 0; n < 40; ++n) {
    written.push_back("a" + std::to_string(n));
    ASSERT_TRUE(nodes_[leader]->Propose(0, written.back(), 5s).ok());
  }
  const auto lost_at = std::chrono::steady_clock::now();
  nodes_[leader].reset();
  const int next = AwaitLeader(0);
  ASSERT_GE(next, 0) << "no new leader";
  ASSERT_NE(next, leader);
  const auto failover = std::chrono::steady_clock::now() - lost_at;
  EXPECT_LT(failover, 5s);
  for (int n = 0; n < 40; ++n) {
    written.push_back("b" + std::to_string(n));
    ASSERT_TRUE(nodes_[next]->Propose(0, written.back(), 5s).ok());
  }
  // Back with its log and snapshots on disk, into a fresh state machine: it rebuilds the
  // shard from them and catches up from the others.
  machines_[leader] = std::make_unique<ListMachine>();
  StartNode(leader, kEvery);
  // (30 s: one run in many took longer than 10 s here, under a full parallel test run; the
  // message says how far each replica got.)
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_TRUE(PollUntil([&] { return machines_[i]->Entries(0) == written; }, 30s))
        << names_[i] << " has " << machines_[i]->Entries(0).size() << " of " << written.size() << " entries, the last "
        << (machines_[i]->Entries(0).empty() ? std::string("none") : machines_[i]->Entries(0).back())
        << "; its group: " << [&] {
             std::string out;
             if (!nodes_[i]) return std::string("not running");
             for (const GroupView& v : nodes_[i]->Groups()) {
               out += "leader '" + v.leader + "', applied " + std::to_string(v.applied_index) + ", lag " + std::to_string(v.lag);
             }
             return out;
           }();
  }
}

TEST_F(ShardGroupsTest, AReplicaAddedLaterCatchesUpFromASnapshotAndVotes) {
  plan_.shards[0] = {{names_[0]}, {names_[0]}};
  StartNode(0, kEvery);
  ASSERT_EQ(AwaitLeader(0), 0);
  std::vector<std::string> written;
  for (int n = 0; n < 100; ++n) {
    written.push_back("e" + std::to_string(n));
    ASSERT_TRUE(nodes_[0]->Propose(0, written.back(), 5s).ok());
  }
  // The shard map grows to three replicas: the newcomers start empty, the leader adds them.
  plan_.shards[0].replicas = names_;
  StartNode(1, kEvery);
  StartNode(2, kEvery);
  nodes_[0]->Update(plan_);
  ASSERT_TRUE(PollUntil(
      [&] {
        for (const GroupView& v : nodes_[0]->Groups()) return v.voters.size() == 3 && v.lag == 0;
        return false;
      },
      20s));
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_TRUE(PollUntil([&] { return machines_[i]->Entries(0) == written; }))
        << names_[i] << " has " << machines_[i]->Entries(0).size() << " entries";
  }
  // Now a write needs a quorum of the three.
  ASSERT_TRUE(nodes_[0]->Propose(0, "after", 5s).ok());
  written.push_back("after");
  for (int i = 1; i < kNodes; ++i) {
    EXPECT_TRUE(PollUntil([&] { return machines_[i]->Entries(0) == written; })) << names_[i];
  }
}

// A connection to a Raft port that sends bytes, and whether the port closed it.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) { (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  bool ClosedByPeer() {
    timeval wait{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    char byte;
    return ::recv(fd_, &byte, 1, 0) == 0;
  }

 private:
  int fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  bool connected_ = false;
};

std::string Word(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

TEST_F(ShardGroupsTest, JunkOnTheRaftPortIsDroppedAndTheGroupsGoOn) {
  plan_.shards[0] = {names_, names_};
  for (int i = 0; i < kNodes; ++i) StartNode(i);
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  const uint64_t magic = 0x5446524d414c414bULL;
  std::vector<std::string> junk = {
      std::string(32, '\xff'),                                      // not a handshake
      Word(magic) + Word(0) + Word(7) + Word(uint64_t{1} << 40),     // an address too long
      Word(magic) + Word(0) + Word(7) + Word(12),                    // a length not padded
      Word(magic) + Word(99) + Word(7) + Word(16) + std::string(16, 'a'),  // a shard not held
      Word(magic) + Word(0) + Word(0) + Word(16) + std::string(16, 'a'),   // Raft id 0
  };
  for (const std::string& bytes : junk) {
    RawConnection c(ports_[leader]);
    ASSERT_TRUE(c.connected());
    c.Send(bytes);
    EXPECT_TRUE(PollUntil([&] { return c.ClosedByPeer(); }, 5s));
  }
  {
    RawConnection half(ports_[leader]);  // a handshake cut short, then gone
    half.Send(Word(magic) + Word(0));
  }
  for (int n = 0; n < 10; ++n) ASSERT_TRUE(nodes_[leader]->Propose(0, "ok" + std::to_string(n), 5s).ok());
  EXPECT_EQ(AwaitLeader(0), leader);
}

}  // namespace
}  // namespace kalam::cluster
