// Failure trials of cluster mode: three nodes, each in a network namespace of its own
// joined to this one by a bridge, a three-member etcd on the bridge's address, and writers
// sending rows of one SHARED table (one busy shard) through every node that is up.
//   - Kill: SIGKILL the shard's leader. Writes resume within 5 s; the node comes back; every
//     acknowledged write is on every replica.
//   - Partition: cut the leader's link. A write sent to it on its side is not acknowledged;
//     the majority elects a leader and acknowledges writes; once healed the old leader
//     catches up, every replica holds the same rows, and the minority's write is nowhere.
// `make cluster-trials TRIALS=N` runs N of each (the environment variable
// KALAM_CLUSTER_TRIALS); `make test` runs a few. Needs root (network namespaces).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "cluster_nodes.h"
#include "common/json_text.h"
#include "etcd_process.h"
#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

int TrialCount() {
  const char* env = std::getenv("KALAM_CLUSTER_TRIALS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 2;
}

void Run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// Network namespaces joined by a bridge in this one: member i at <prefix>.(11 + i), this
// namespace (and etcd) at <prefix>.1. A member's link can be cut and healed.
class Namespaces {
 public:
  // Why namespaces can't be made here ("" when they can).
  static std::string Impossible() {
    if (::geteuid() != 0) return "network namespaces need root";
    if (std::system("ip netns list >/dev/null 2>&1") != 0) return "`ip netns` does not work here (iproute2)";
    const std::string probe = "kbrp" + std::to_string(::getpid() % 100000);
    if (std::system(("ip link add " + probe + " type bridge >/dev/null 2>&1").c_str()) != 0) {
      return "this kernel makes no bridges here";
    }
    std::system(("ip link del " + probe + " >/dev/null 2>&1").c_str());
    return "";
  }

  explicit Namespaces(int members) : members_(members) {
    // Names of this process and instance: the kernel may still be removing the last
    // instance's links (a namespace goes away in the background).
    static std::atomic<int> instances{0};
    const int instance = instances++;
    tag_ = std::to_string(::getpid() % 10000) + static_cast<char>('a' + instance % 26);
    prefix_ = "10." + std::to_string(200 + instance % 50) + "." + std::to_string(::getpid() % 250) + ".";
    bridge_ = "kbr" + tag_;
    Run("ip link add " + bridge_ + " type bridge");
    Run("ip addr add " + Gateway() + "/24 dev " + bridge_);
    Run("ip link set " + bridge_ + " up");
    for (int i = 0; i < members; ++i) {
      const std::string inside = "kp" + tag_ + "x" + std::to_string(i);
      Run("ip netns add " + Name(i));
      Run("ip link add " + Link(i) + " type veth peer name " + inside);
      Run("ip link set " + inside + " netns " + Name(i));
      Run("ip link set " + Link(i) + " master " + bridge_);
      Run("ip link set " + Link(i) + " up");
      Run("ip -n " + Name(i) + " addr add " + Address(i) + "/24 dev " + inside);
      Run("ip -n " + Name(i) + " link set " + inside + " up");
      Run("ip -n " + Name(i) + " link set lo up");
    }
  }
  ~Namespaces() {
    for (int i = 0; i < members_; ++i) std::system(("ip netns del " + Name(i) + " >/dev/null 2>&1").c_str());
    std::system(("ip link del " + bridge_ + " >/dev/null 2>&1").c_str());
  }

  std::string Name(int i) const { return "kns" + tag_ + "-" + std::to_string(i); }
  std::string Address(int i) const { return prefix_ + std::to_string(11 + i); }
  std::string Gateway() const { return prefix_ + "1"; }
  void Cut(int i) { Run("ip link set " + Link(i) + " down"); }
  void Heal(int i) { Run("ip link set " + Link(i) + " up"); }

  // Runs f on a thread inside member i's namespace (the sockets it opens are that
  // namespace's); its result.
  template <typename F>
  auto Inside(int i, F f) -> decltype(f()) {
    std::optional<decltype(f())> out;
    std::string failed;
    std::thread inside([&] {
      const int fd = ::open(("/var/run/netns/" + Name(i)).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        failed = "cannot enter " + Name(i);
      } else {
        out.emplace(f());
      }
      if (fd >= 0) ::close(fd);
    });
    inside.join();
    if (!out) throw std::runtime_error(failed);
    return std::move(*out);
  }

 private:
  std::string Link(int i) const { return "kv" + tag_ + "x" + std::to_string(i); }

  int members_;
  std::string tag_, prefix_, bridge_;
};

// Writers through every node marked up, retrying what the server says to retry
// (SERVICE_UNAVAILABLE, STATEMENT_TIMEOUT) and lost connections under the same id; a
// CONSTRAINT_VIOLATION on a retry means an earlier try was applied.
class Writers {
 public:
  Writers(const std::vector<ServerProcess*>& nodes, int threads) : nodes_(nodes) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this, t] { Write(t); });
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  void SetUp(size_t node, bool up) { down_[node] = !up; }
  std::set<int64_t> Acked() {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  size_t AckedSince(Clock::time_point since) {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(std::count_if(acked_at_.begin(), acked_at_.end(), [&](auto t) { return t > since; }));
  }
  // When the first write sent after since was acknowledged (nullopt: none yet).
  std::optional<Clock::time_point> FirstAckAfter(Clock::time_point since) {
    std::lock_guard lock(mutex_);
    std::optional<Clock::time_point> first;
    for (const auto& [sent, acked] : sent_acked_) {
      if (sent > since && (!first || acked < *first)) first = acked;
    }
    return first;
  }
  std::vector<std::string> Surprises() {
    std::lock_guard lock(mutex_);
    return surprises_;
  }

 private:
  void Write(int t) {
    for (int64_t k = 1; !stop_; ++k) {
      const int64_t id = (t + 1) * 10'000'000 + k;
      for (int attempt = 0; !stop_; ++attempt) {
        const size_t n = static_cast<size_t>(t + k + attempt) % nodes_.size();
        if (down_[n]) continue;
        bool retry = true;
        try {
          auto http = nodes_[n]->Client();
          http.SetTimeout(seconds(5));
          const auto sent = Clock::now();
          auto r = Sql(http, RootAuth(), "INSERT INTO app.items VALUES (" + std::to_string(id) + ", 'w')");
          const std::string code = r.error_code();
          if (r.status == 200 || (attempt > 0 && code == "CONSTRAINT_VIOLATION")) {
            std::lock_guard lock(mutex_);
            acked_.insert(id);
            acked_at_.push_back(Clock::now());
            sent_acked_.emplace_back(sent, acked_at_.back());
            retry = false;
          } else if (code != "SERVICE_UNAVAILABLE" && code != "STATEMENT_TIMEOUT") {
            std::lock_guard lock(mutex_);
            surprises_.push_back(std::to_string(id) + ": " + json::serialize(r.body));
            retry = false;
          }
        } catch (const std::exception&) {
          // the node went away mid-request: again
        }
        if (!retry) break;
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }

  std::vector<ServerProcess*> nodes_;
  std::array<std::atomic<bool>, 3> down_{};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<int64_t> acked_;
  std::vector<Clock::time_point> acked_at_;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> sent_acked_;  // sent, acknowledged
  std::vector<std::string> surprises_;
  std::vector<std::thread> threads_;
};

// The ids of app.items in this node's own replica (caught up with its leader); nullopt when
// it can't be read. In pages: fifty trials write more rows than one answer may hold
// (limits.max_result_rows).
std::optional<std::set<int64_t>> ReplicaIds(const ServerProcess& node) {
  constexpr size_t kPage = 50000;
  std::set<int64_t> ids;
  while (true) {
    const std::string after = ids.empty() ? std::string() : " WHERE id > " + std::to_string(*ids.rbegin());
    const std::string rows =
        ReplicaRows(node, RootAuth(), "SELECT id FROM app.items" + after + " ORDER BY id LIMIT " + std::to_string(kPage));
    if (rows.empty()) return std::nullopt;
    const json::value parsed = json::parse(rows);
    for (const auto& row : parsed.as_array()) ids.insert(row.as_array().at(0).as_int64());
    if (parsed.as_array().size() < kPage) return ids;
  }
}

class ClusterTrials : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = Namespaces::Impossible(); !why.empty()) GTEST_SKIP() << why;
    net_ = std::make_unique<Namespaces>(3);
    etcd_ = std::make_unique<EtcdCluster>(3, net_->Gateway());
    etcd_->Start();
    for (int i = 0; i < 3; ++i) {
      owned_.push_back(std::make_unique<ServerProcess>(ClusterNodeOptions("t" + std::to_string(i + 1), etcd_->EndpointsToml())));
      owned_.back()->PlaceIn(net_->Address(i), net_->Name(i));
      owned_.back()->Start();
      nodes_.push_back(owned_.back().get());
    }
    ASSERT_TRUE(WaitUntil([&] { return Balanced(nodes_, 8); }, seconds(30)));
    auto http = nodes_[0]->Client();
    // Every row's insert goes to a topic too (kept in another shard, most likely led by
    // another node): it must hold each row once, however the leaders die.
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT); "
                                    "CREATE TOPIC app.feed; ALTER TOPIC app.feed ADD SOURCE app.items ON INSERT").status,
              200);
  }
  void TearDown() override {
    if (HasFailure()) {
      for (const auto& node : owned_) {
        const std::string log = node->log();
        std::cout << "--- a node's log ends:\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0) << "\n";
      }
    }
    owned_.clear();
    etcd_.reset();
    net_.reset();
  }

  // The node leading app.items' shard: the one that takes a write (of a probe row) itself;
  // -1 when none does within 15 s.
  int ItemsLeader() {
    int leader = -1;
    WaitUntil(
        [&] {
          for (size_t i = 0; i < nodes_.size(); ++i) {
            auto http = nodes_[i]->Client();
            http.SetTimeout(seconds(5));
            auto sent = http.Send("POST", "/v1/api/sql",
                                  "{\"sql\":\"INSERT INTO app.items VALUES (" + std::to_string(--probe_id_) + ", 'probe')\"}",
                                  {{"Authorization", RootAuth()}, {"X-Kalam-Forwarded-By", "test"}});
            if (sent.ok() && sent->status == 200) {
              leader = static_cast<int>(i);
              return true;
            }
          }
          return false;
        },
        seconds(15));
    return leader;
  }
  int64_t probe_id_ = -1'000'000;  // the probes' rows: -1000001 and down

  // Once the writers have had 20 more writes acknowledged: the leader of app.items' shard,
  // which they stop sending to; -1 when there is no such load or leader.
  int BusyLeader(Writers& writers) {
    const auto before = Clock::now();
    if (!WaitUntil([&] { return writers.AckedSince(before) >= 20; }, seconds(30))) return -1;
    const int leader = ItemsLeader();
    if (leader >= 0) writers.SetUp(leader, false);
    return leader;
  }

  // Every replica holds the same rows, every acknowledged one among them, and none of
  // absent; the replicas' row count.
  size_t ExpectReplicasAgree(const std::set<int64_t>& acked, const std::set<int64_t>& absent, int trial) {
    std::optional<std::set<int64_t>> first;
    EXPECT_TRUE(WaitUntil(
        [&] {
          std::vector<std::set<int64_t>> seen;
          for (ServerProcess* node : nodes_) {
            auto ids = ReplicaIds(*node);
            if (!ids) return false;
            seen.push_back(std::move(*ids));
          }
          if (!std::all_of(seen.begin(), seen.end(), [&](const auto& s) { return s == seen[0]; })) return false;
          first = seen[0];
          return true;
        },
        seconds(20)))
        << "trial " << trial << ": the replicas differ";
    if (!first) return 0;
    EXPECT_TRUE(std::includes(first->begin(), first->end(), acked.begin(), acked.end()))
        << "trial " << trial << ": an acknowledged write is missing (" << first->size() << " rows, " << acked.size()
        << " acknowledged)";
    for (int64_t id : absent) EXPECT_EQ(first->count(id), 0u) << "trial " << trial << ": row " << id << " is there";
    ExpectTopicHoldsEachRowOnce(*first);
    return first->size();
  }

  // The topic holds one insert for each row (once the outboxes are delivered) and nothing
  // else, at dense offsets.
  void ExpectTopicHoldsEachRowOnce(const std::set<int64_t>& rows) {
    std::map<int64_t, int> inserts;
    std::vector<TopicMessage> log;
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto whole = WholeTopic(*nodes_[0], RootAuth(), "app.feed", 1);
          if (!whole) return false;
          log = std::move(*whole);
          inserts.clear();
          for (const TopicMessage& m : log) ++inserts[std::stoll(m.key)];
          return inserts.size() >= rows.size();
        },
        seconds(30)))
        << "the topic holds " << inserts.size() << " rows' inserts of " << rows.size();
    size_t twice = 0;
    size_t strays = 0;
    for (const auto& [id, count] : inserts) {
      if (count != 1) ++twice;
      if (!rows.contains(id)) ++strays;
    }
    EXPECT_EQ(twice, 0u) << "rows inserted into the topic more than once";
    EXPECT_EQ(strays, 0u) << "messages for rows that are not there";
    EXPECT_EQ(OffsetGaps(log), "");
    std::printf("topic: %zu messages for %zu rows\n", log.size(), rows.size());
  }

  std::unique_ptr<Namespaces> net_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::vector<std::unique_ptr<ServerProcess>> owned_;
  std::vector<ServerProcess*> nodes_;
};

TEST_F(ClusterTrials, KillingTheLeaderOfABusyShardLosesNoAcknowledgedWrite) {
  const int trials = TrialCount();
  Writers writers(nodes_, 3);
  std::vector<long long> resumed_ms;
  for (int trial = 1; trial <= trials; ++trial) {
    const int leader = BusyLeader(writers);
    ASSERT_GE(leader, 0) << "trial " << trial << ": no load, or no leader";
    const auto killed = Clock::now();
    nodes_[leader]->Stop(SIGKILL);
    std::optional<Clock::time_point> resumed;
    EXPECT_TRUE(WaitUntil([&] { return (resumed = writers.FirstAckAfter(killed)).has_value(); }, seconds(15)))
        << "trial " << trial << ": no write acknowledged after the kill";
    if (resumed) {
      resumed_ms.push_back(std::chrono::duration_cast<milliseconds>(*resumed - killed).count());
      EXPECT_LT(resumed_ms.back(), 5000) << "trial " << trial;
    }
    nodes_[leader]->Start();
    writers.SetUp(leader, true);
    ASSERT_TRUE(WaitUntil([&] { return Balanced(nodes_, 8); }, seconds(30))) << "trial " << trial;
  }
  writers.Stop();
  for (const std::string& s : writers.Surprises()) ADD_FAILURE() << "unexpected answer: " << s;
  const size_t rows = ExpectReplicasAgree(writers.Acked(), {}, trials);
  std::sort(resumed_ms.begin(), resumed_ms.end());
  if (!resumed_ms.empty()) {
    std::printf("kill trials: %d; writes resumed after %lld ms (median), %lld ms (worst); %zu acknowledged, %zu rows on each replica\n",
                trials, resumed_ms[resumed_ms.size() / 2], resumed_ms.back(), writers.Acked().size(), rows);
  }
}

TEST_F(ClusterTrials, APartitionedLeaderAcknowledgesNothingAndCatchesUpWhenHealed) {
  const int trials = TrialCount();
  Writers writers(nodes_, 3);
  std::set<int64_t> minority_writes;
  std::vector<long long> resumed_ms;
  int refused = 0;
  for (int trial = 1; trial <= trials; ++trial) {
    const int leader = BusyLeader(writers);
    ASSERT_GE(leader, 0) << "trial " << trial << ": no load, or no leader";
    net_->Cut(leader);
    const auto cut = Clock::now();
    // On the cut side, straight to the old leader: not acknowledged (its log can't reach a
    // majority; it steps down, or the write times out).
    const int64_t lost_id = -5000 - trial;
    minority_writes.insert(lost_id);
    std::thread minority([&] {
      const int status = net_->Inside(leader, [&] {
        client::HttpClient http(net_->Address(leader), nodes_[leader]->port());
        http.SetTimeout(seconds(20));
        auto sent = http.Send("POST", "/v1/api/sql",
                              "{\"sql\":\"INSERT INTO app.items VALUES (" + std::to_string(lost_id) + ", 'minority')\"}",
                              {{"Authorization", RootAuth()}, {"X-Kalam-Forwarded-By", "test"}});
        return sent.ok() ? sent->status : 0;
      });
      EXPECT_NE(status, 200) << "trial " << trial << ": the cut-off leader acknowledged a write";
      if (status != 200) ++refused;
    });
    // The majority goes on.
    std::optional<Clock::time_point> resumed;
    EXPECT_TRUE(WaitUntil(
        [&] {
          resumed = writers.FirstAckAfter(cut);
          return resumed.has_value() && writers.AckedSince(*resumed) >= 10;
        },
        seconds(30)))
        << "trial " << trial << ": the majority acknowledged nothing";
    if (resumed) resumed_ms.push_back(std::chrono::duration_cast<milliseconds>(*resumed - cut).count());
    minority.join();
    net_->Heal(leader);
    writers.SetUp(leader, true);
    ASSERT_TRUE(WaitUntil([&] { return Balanced(nodes_, 8); }, seconds(30))) << "trial " << trial;
  }
  writers.Stop();
  for (const std::string& s : writers.Surprises()) ADD_FAILURE() << "unexpected answer: " << s;
  const size_t rows = ExpectReplicasAgree(writers.Acked(), minority_writes, trials);
  std::sort(resumed_ms.begin(), resumed_ms.end());
  if (!resumed_ms.empty()) {
    std::printf("partition trials: %d; minority writes refused: %d; majority acknowledged again after %lld ms (median), "
                "%lld ms (worst); %zu acknowledged, %zu rows on each replica\n",
                trials, refused, resumed_ms[resumed_ms.size() / 2], resumed_ms.back(), writers.Acked().size(), rows);
  }
}

}  // namespace
}  // namespace kalam::testing
