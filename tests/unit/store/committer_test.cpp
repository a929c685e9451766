// The committer against a real store: statements from several threads, grouped however
// the threads happen to meet. Whatever the grouping, _seq values must rise in commit
// order, a statement's changes must land together or not at all, and a failed statement
// must leave no trace for the statements after it in the same group.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../temp_dir.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "store/row_codec.h"

namespace kalam::store {
namespace {

using kalam::testing::TempDir;

std::unique_ptr<KvStore> OpenStore(const TempDir& dir) {
  auto store = KvStore::Open(dir.path() + "/rocksdb", /*sync=*/false);
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::unique_ptr<Committer> OpenCommitter(KvStore& store) {
  auto committer = Committer::Open(store, /*node_id=*/1);
  EXPECT_TRUE(committer.ok()) << committer.status().message();
  return committer.ok() ? std::move(committer).value() : nullptr;
}

// A store in a fresh directory and its committer, for CommitterTest's tests.
class CommitterTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store = OpenStore(dir);
    ASSERT_NE(store, nullptr);
    committer = OpenCommitter(*store);
    ASSERT_NE(committer, nullptr);
  }
  // Closes both and opens them again on the same directory.
  void Reopen() {
    committer.reset();
    ASSERT_TRUE(store->Close().ok());
    store.reset();
    Open();
  }
  TempDir dir;  // outlives the store
  std::unique_ptr<KvStore> store;
  std::unique_ptr<Committer> committer;  // goes before the store
};

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(SeqGeneratorTest, RisesStrictlyAndCarriesTheNodeId) {
  const int64_t floor_now = SeqFloorAt(NowMillis());
  SeqGenerator seq(/*node_id=*/5, /*floor=*/0);
  const int64_t first = seq.Next();
  EXPECT_GE(first, floor_now);
  EXPECT_EQ((first >> 12) & 0x3ff, 5);
  int64_t last = first;
  // Far more values than one millisecond's counter holds: they keep rising.
  for (int i = 0; i < 100000; ++i) {
    const int64_t next = seq.Next();
    ASSERT_GT(next, last);
    last = next;
  }
  EXPECT_EQ(seq.last(), last);
}

TEST(SeqGeneratorTest, NeverGoesBelowTheFloorOfARestart) {
  // A floor ahead of the clock, as after the clock stepped back.
  const int64_t floor = SeqFloorAt(NowMillis() + 3'600'000);
  SeqGenerator seq(1, floor);
  EXPECT_EQ(seq.Next(), floor + 1);
  EXPECT_EQ(seq.Next(), floor + 2);
}

struct Applied {
  int thread = 0;
  int index = 0;
  bool ok = false;
  int64_t counter_seen = 0;
  std::vector<int64_t> seqs;
};

constexpr char kCounter[] = "test/counter";

std::string RowKey(int thread, int index, int row) {
  return "rows/" + std::to_string(thread) + "/" + std::to_string(index) + "/" + std::to_string(row);
}
int RowsOf(int thread, int index) { return 1 + (thread + index) % 4; }
bool Fails(int index) { return index % 7 == 3; }

TEST_F(CommitterTest, ConcurrentCommitsAreOrderedAtomicAndIsolated) {

  std::mutex log_mutex;
  std::vector<Applied> log;  // in the order leaders ran the statements: commit order
  std::vector<int64_t> published;
  std::vector<int64_t> group_last_seqs;
  committer->SetListener([&](std::vector<ChangeEvent>& events, int64_t last_seq) {
    std::lock_guard lock(log_mutex);
    for (const auto& e : events) {
      for (const auto& r : e.rows) published.push_back(r.seq);
    }
    group_last_seqs.push_back(last_seq);
  });

  constexpr int kThreads = 4;
  constexpr int kCommits = 300;
  std::atomic<bool> writing{true};
  std::atomic<int> snapshots_checked{0};
  std::atomic<int> torn{0};

  // Reads concurrently with the writers: in any snapshot, a statement's rows are all there
  // or none, and the counter (written by the same statements) matches them.
  std::thread reader([&] {
    while (writing.load()) {
      auto snapshot = store->TakeSnapshot();
      auto counter = store->Get(Family::kHot, kCounter, snapshot.get());
      if (!counter.ok()) {
        ++torn;
        continue;
      }
      const int64_t committed = counter->has_value() ? std::stoll(**counter) : 0;
      std::map<std::string, int> rows_of;  // "thread/index" -> rows seen
      auto cursor = store->NewCursor(Family::kHot, "rows/", snapshot.get());
      for (; cursor->Valid(); cursor->Next()) {
        const std::string key(cursor->key());
        rows_of[key.substr(0, key.rfind('/'))]++;
      }
      for (const auto& [statement, rows] : rows_of) {
        const auto slash = statement.find('/', 5);
        const int thread = std::stoi(statement.substr(5, slash - 5));
        const int index = std::stoi(statement.substr(slash + 1));
        if (rows != RowsOf(thread, index) || Fails(index)) ++torn;
      }
      if (static_cast<int64_t>(rows_of.size()) != committed) ++torn;
      ++snapshots_checked;
    }
  });

  std::vector<std::thread> writers;
  std::vector<std::vector<Status>> returned(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        returned[t].push_back(committer->Commit([&](CommitContext& context) {
          Applied applied;
          applied.thread = t;
          applied.index = i;
          auto counter = context.Get(Family::kHot, kCounter);
          if (!counter.ok()) return counter.status();
          applied.counter_seen = counter->has_value() ? std::stoll(**counter) : 0;
          ChangeEvent event;
          event.table_id = "test:rows";
          for (int r = 0; r < RowsOf(t, i); ++r) {
            const int64_t seq = context.NextSeq();
            applied.seqs.push_back(seq);
            context.Put(Family::kHot, RowKey(t, i, r), std::to_string(seq));
            event.rows.push_back({{}, seq});
          }
          context.Put(Family::kHot, kCounter, std::to_string(applied.counter_seen + 1));
          context.Emit(std::move(event));
          applied.ok = !Fails(i);
          {
            std::lock_guard lock(log_mutex);
            log.push_back(applied);
          }
          // Fails after its changes: they, its counter and its event must all vanish.
          return applied.ok ? Status::Ok() : Status(Code::kConstraintViolation, "refused");
        }));
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  reader.join();

  EXPECT_EQ(torn.load(), 0) << "of " << snapshots_checked.load() << " snapshots";
  ASSERT_EQ(log.size(), static_cast<size_t>(kThreads * kCommits));

  // What each Commit returned is its own statement's outcome.
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(returned[t].size(), static_cast<size_t>(kCommits));
    for (int i = 0; i < kCommits; ++i) {
      EXPECT_EQ(returned[t][i].ok(), !Fails(i)) << t << "/" << i;
      if (Fails(i)) {
        EXPECT_EQ(returned[t][i].code(), Code::kConstraintViolation);
      }
    }
  }

  // _seq order is commit order: strictly rising along the log, so never repeated.
  int64_t last_seq = 0;
  int64_t committed = 0;
  std::vector<int64_t> committed_seqs;
  for (const Applied& a : log) {
    for (int64_t seq : a.seqs) {
      ASSERT_GT(seq, last_seq) << "statement " << a.thread << "/" << a.index;
      last_seq = seq;
    }
    // Each statement saw exactly the statements committed before it, none that failed.
    ASSERT_EQ(a.counter_seen, committed) << "statement " << a.thread << "/" << a.index;
    if (a.ok) {
      ++committed;
      committed_seqs.insert(committed_seqs.end(), a.seqs.begin(), a.seqs.end());
    }
  }
  EXPECT_EQ(committer->last_seq(), last_seq);

  // Live queries hear of the committed statements only, in commit order.
  EXPECT_EQ(published, committed_seqs);
  ASSERT_FALSE(group_last_seqs.empty());
  // Fewer groups than statements means statements shared writes (and the checks above ran
  // on groups of several); not asserted, as it depends on scheduling.
  RecordProperty("groups", static_cast<int>(group_last_seqs.size()));
  EXPECT_EQ(group_last_seqs.back(), last_seq);
  EXPECT_TRUE(std::is_sorted(group_last_seqs.begin(), group_last_seqs.end()));

  // The store holds the committed statements' rows, nothing of the failed ones.
  for (const Applied& a : log) {
    for (int r = 0; r < RowsOf(a.thread, a.index); ++r) {
      auto value = store->Get(Family::kHot, RowKey(a.thread, a.index, r));
      ASSERT_TRUE(value.ok());
      if (a.ok) {
        ASSERT_TRUE(value->has_value());
        EXPECT_EQ(std::stoll(**value), a.seqs[r]);
      } else {
        EXPECT_FALSE(value->has_value()) << a.thread << "/" << a.index;
      }
    }
  }
  auto counter = store->Get(Family::kHot, kCounter);
  ASSERT_TRUE(counter.ok() && counter->has_value());
  EXPECT_EQ(std::stoll(**counter), committed);
}

TEST_F(CommitterTest, SeqContinuesAfterAReopen) {
  int64_t last = 0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(committer->Commit([&](CommitContext& context) {
                           last = context.NextSeq();
                           context.Put(Family::kHot, "k" + std::to_string(i), "v");
                           return Status::Ok();
                         }).ok());
  }
  Reopen();
  EXPECT_EQ(committer->last_seq(), last);
  int64_t next = 0;
  ASSERT_TRUE(committer->Commit([&](CommitContext& context) {
                         next = context.NextSeq();
                         return Status::Ok();
                       }).ok());
  EXPECT_GT(next, last);
}

// Background steps (a flush's markers) step aside for the statements waiting at that
// moment: it returns once they are committed, not before, and does not wait for later ones.
TEST_F(CommitterTest, StepAsideWaitsForTheStatementsQueuedThenOnly) {
  EXPECT_FALSE(committer->StepAside(std::chrono::seconds(5)));  // nobody waits: at once

  // A leader held inside its statement, and a statement queued behind it.
  std::mutex mutex;
  std::condition_variable cv;
  bool leading = false, release = false;
  std::thread leader([&] {
    EXPECT_TRUE(committer->Commit([&](CommitContext&) {
                           std::unique_lock lock(mutex);
                           leading = true;
                           cv.notify_all();
                           cv.wait(lock, [&] { return release; });
                           return Status::Ok();
                         }).ok());
  });
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return leading; });
  }
  std::thread queued([&] {
    EXPECT_TRUE(committer->Commit([&](CommitContext& c) {
                           c.Put(Family::kMeta, "queued", "v");
                           return Status::Ok();
                         }).ok());
  });
  // Polled with a deadline: the statement is in the queue once StepAside has someone to
  // wait for; until the leader is released it must not return (it would after 30 s).
  std::atomic<bool> stepped = false, waited = false;
  std::thread stepper([&] {
    while (!committer->StepAside(std::chrono::seconds(30))) std::this_thread::yield();
    waited = true;
    // The queued statement's group is written before StepAside may return.
    auto written = store->Get(Family::kMeta, "queued");
    EXPECT_TRUE(written.ok() && written->has_value()) << "StepAside returned before the queued statement was committed";
    stepped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // room to return early
  EXPECT_FALSE(waited);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  leader.join();
  queued.join();
  stepper.join();
  EXPECT_TRUE(stepped);
}

TEST_F(CommitterTest, WatchRecordsCommittedKeysOfItsTable) {

  auto key = [](uint64_t table, const std::string& pk) { return ScopePrefix(table, "") + pk; };
  ASSERT_TRUE(committer->Commit([&](CommitContext& c) {
                         c.Put(Family::kHot, key(7, "before"), "v");
                         return Status::Ok();
                       }).ok());
  auto watch = committer->Watch(7);
  EXPECT_FALSE(watch->Changed(key(7, "before")));

  ASSERT_TRUE(committer->Commit([&](CommitContext& c) {
                         c.Put(Family::kHot, key(7, "a"), "v");
                         c.Put(Family::kHot, key(8, "b"), "v");
                         c.Put(Family::kMeta, key(7, "meta"), "v");
                         c.Delete(Family::kHot, key(7, "deleted"));
                         return Status::Ok();
                       }).ok());
  EXPECT_FALSE(committer->Commit([&](CommitContext& c) {
                          c.Put(Family::kHot, key(7, "failed"), "v");
                          return Status(Code::kConstraintViolation, "no");
                        }).ok());
  EXPECT_TRUE(watch->Changed(key(7, "a")));
  EXPECT_FALSE(watch->Changed(key(8, "b")));        // another table
  EXPECT_FALSE(watch->Changed(key(7, "meta")));     // another family
  EXPECT_FALSE(watch->Changed(key(7, "deleted")));  // deletes leave no hot row to keep
  EXPECT_FALSE(watch->Changed(key(7, "failed")));   // never committed

  // A range delete over the table (a drop) invalidates every key.
  ASSERT_TRUE(committer->Commit([&](CommitContext& c) {
                         c.DeleteRange(Family::kHot, TablePrefix(7), TablePrefix(8));
                         return Status::Ok();
                       }).ok());
  EXPECT_TRUE(watch->Changed(key(7, "anything")));

  // Released, the watch costs later commits nothing (and is not touched).
  watch.reset();
  EXPECT_TRUE(committer->Commit([&](CommitContext& c) {
                         c.Put(Family::kHot, key(7, "after"), "v");
                         return Status::Ok();
                       }).ok());
}

// Cluster mode's split of a group: a log of one replica per shard, kept in this process,
// which writes each part back through ApplyReplicated as the shards' groups do (shard =
// the first byte of a key's scope; parts of shard 9 are refused, as a shard this node
// does not lead).
class ShardLogs final : public Replicator {
 public:
  uint64_t LeadershipEpoch() override { return kNoFence; }
  explicit ShardLogs(Committer& committer) : committer_(committer) {}
  std::optional<int32_t> ShardOf(Family, std::string_view key) override {
    const std::string_view scope = ScopeOfKey(key);
    if (scope.empty()) return std::nullopt;
    return scope[0] - '0';
  }
  std::vector<Status> Replicate(std::vector<Part>& parts) override {
    std::vector<Status> out;
    for (Part& part : parts) {
      shards_seen.push_back(part.shard);
      if (part.shard == 9) {
        out.emplace_back(Code::kServiceUnavailable, "this node does not lead shard 9");
        continue;
      }
      out.push_back(committer_.ApplyReplicated(std::move(part.changes), part.events, part.last_seq));
    }
    return out;
  }
  std::vector<int32_t> shards_seen;

 private:
  Committer& committer_;
};

TEST_F(CommitterTest, InClusterModeEachShardsPartGoesThroughItsLog) {
  ShardLogs logs(*committer);
  committer->SetReplicator(&logs);
  std::vector<std::pair<std::string, int64_t>> published;  // table_id, _seq
  committer->SetListener([&](std::vector<ChangeEvent>& events, int64_t) {
    for (const auto& e : events) published.emplace_back(e.table_id, e.rows.at(0).seq);
  });
  auto row = [](const std::string& scope, const std::string& pk) { return ScopePrefix(5, scope) + pk; };
  auto insert = [&](const std::vector<std::string>& scopes) {
    return committer->Commit([&](CommitContext& c) {
      for (const auto& scope : scopes) {
        const int64_t seq = c.NextSeq();
        c.Put(Family::kHot, row(scope, "k"), std::to_string(seq));
        ChangeEvent e;
        e.table_id = "app:t" + scope;
        e.rows.push_back({{}, seq});
        c.Emit(std::move(e));
      }
      return Status::Ok();
    });
  };
  // One shard per statement: through its log, written, published.
  ASSERT_TRUE(insert({"1a"}).ok());
  ASSERT_TRUE(insert({"1a", "1b"}).ok());  // two users of one shard
  EXPECT_EQ(logs.shards_seen, (std::vector<int32_t>{1, 1}));
  EXPECT_TRUE(store->Get(Family::kHot, row("1b", "k"))->has_value());
  ASSERT_EQ(published.size(), 3u);
  EXPECT_LT(published[0].second, published[2].second);
  // Two shards in one statement: refused, nothing written, nothing replicated.
  const Status both = insert({"2a", "3a"});
  EXPECT_EQ(both.code(), Code::kUnsupported) << both.message();
  EXPECT_FALSE(store->Get(Family::kHot, row("2a", "k"))->has_value());
  EXPECT_EQ(logs.shards_seen.size(), 2u);
  // A shard the log refuses fails its statements only.
  std::thread refused([&] { EXPECT_EQ(insert({"9a"}).code(), Code::kServiceUnavailable); });
  std::thread taken([&] { EXPECT_TRUE(insert({"4a"}).ok()); });
  refused.join();
  taken.join();
  EXPECT_FALSE(store->Get(Family::kHot, row("9a", "k"))->has_value());
  EXPECT_TRUE(store->Get(Family::kHot, row("4a", "k"))->has_value());
  // Keys that are no row's (SHARED scope "" here) stay this node's: written, not replicated.
  const size_t seen = logs.shards_seen.size();
  ASSERT_TRUE(committer->Commit([&](CommitContext& c) {
                         c.Put(Family::kMeta, "local/key", "v");
                         c.Put(Family::kHot, row("", "k"), "v");
                         return Status::Ok();
                       }).ok());
  EXPECT_EQ(logs.shards_seen.size(), seen);
  EXPECT_TRUE(store->Get(Family::kMeta, "local/key")->has_value());
  // A part another leader wrote lifts the generator past its _seq.
  const int64_t ahead = committer->last_seq() + (int64_t{1} << 40);
  std::vector<ChangeEvent> none;
  WriteSet other;
  other.Put(Family::kHot, row("5a", "k"), "v");
  ASSERT_TRUE(committer->ApplyReplicated(std::move(other), none, ahead).ok());
  EXPECT_EQ(committer->last_seq(), ahead);
  ASSERT_TRUE(insert({"6a"}).ok());
  EXPECT_GT(published.back().second, ahead);
  // The last _seq survives a restart.
  Reopen();
  EXPECT_GT(committer->last_seq(), ahead);
}

}  // namespace
}  // namespace kalam::store
