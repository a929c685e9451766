// The topics part below the server: the message codec and its refusal of damaged bytes,
// partition hashing, the log's offsets across group writes that succeed or fail and its
// wake-ups, consumer groups' reservations with a clock the test sets, definitions kept as
// catalog records, and cluster mode's outbox codec and key placement.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

using namespace std::string_literals;

#include "../temp_dir.h"
#include "catalog/catalog.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "topics/consumer_groups.h"
#include "topics/log.h"
#include "topics/outbox.h"
#include "topics/registry.h"
#include "topics/router.h"

namespace kalam::topics {
namespace {

TEST(MessageCodec, RoundTripsAndRefusesDamagedBytes) {
  Message m;
  m.partition = 3;
  m.offset = 1234567890123;
  m.op = Op::kUpdate;
  m.key = "k\0ey"s.substr(0, 4);
  m.user = "u-1";
  m.payload = R"({"a":{"old":1,"new":2}})";
  m.timestamp_ms = 1796276939089;
  const std::string key = MessageKey(7, m.partition, m.offset);
  const std::string value = EncodeMessage(m);
  auto back = DecodeMessage(key, value);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->partition, 3);
  EXPECT_EQ(back->offset, m.offset);
  EXPECT_EQ(back->op, Op::kUpdate);
  EXPECT_EQ(back->key, m.key);
  EXPECT_EQ(back->user, "u-1");
  EXPECT_EQ(back->payload, m.payload);
  EXPECT_EQ(back->timestamp_ms, m.timestamp_ms);
  // Every truncation, a bad op and a short key are refused, never read past the end.
  for (size_t n = 0; n < value.size(); ++n) {
    EXPECT_FALSE(DecodeMessage(key, value.substr(0, n)).ok()) << n;
  }
  std::string bad_op = value;
  bad_op[0] = 9;
  EXPECT_FALSE(DecodeMessage(key, bad_op).ok());
  EXPECT_FALSE(DecodeMessage(key.substr(1), value).ok());
  // Keys sort by offset within a partition.
  EXPECT_LT(MessageKey(7, 0, 255), MessageKey(7, 0, 256));
  EXPECT_LT(MessageKey(7, 0, 1LL << 40), MessageKey(7, 1, 0));
}

TEST(Partitioning, IsStableAndSpreadsKeys) {
  EXPECT_EQ(PartitionOf("anything", 1), 0);
  EXPECT_EQ(PartitionOf("42", 8), PartitionOf("42", 8));
  std::set<int32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const int32_t p = PartitionOf(std::to_string(i), 8);
    ASSERT_GE(p, 0);
    ASSERT_LT(p, 8);
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 8u);
  // The same value across runs and machines: a fixed hash, not std::hash.
  EXPECT_EQ(PartitionOf("hello", 1000), static_cast<int32_t>(11831194018420276491ULL % 1000));
}

TEST(OutboxCodec, RoundTripsAndRefusesJunk) {
  std::vector<OutboxRecord> records;
  for (int i = 0; i < 3; ++i) {
    OutboxRecord r;
    r.seq = 1000 + i;
    r.topic_num = 9;
    r.message.partition = i;
    r.message.op = i == 2 ? Op::kDelete : Op::kInsert;
    r.message.key = std::to_string(i);
    r.message.user = i == 1 ? "u1" : "";
    r.message.payload = "{\"id\":" + std::to_string(i) + "}";
    r.message.timestamp_ms = 1796276939089 + i;
    records.push_back(r);
  }
  const std::string bytes = EncodeDelivery(records);
  auto back = DecodeDelivery(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*back)[i].seq, 1000 + i);
    EXPECT_EQ((*back)[i].topic_num, 9u);
    EXPECT_EQ((*back)[i].message.partition, i);
    EXPECT_EQ((*back)[i].message.key, std::to_string(i));
    EXPECT_EQ((*back)[i].message.payload, records[i].message.payload);
    EXPECT_EQ((*back)[i].message.timestamp_ms, records[i].message.timestamp_ms);
  }
  EXPECT_EQ((*back)[2].message.op, Op::kDelete);
  EXPECT_EQ((*back)[1].message.user, "u1");
  // An outbox record as stored: its key orders a shard's records by seq.
  auto stored = DecodeOutboxRecord(OutboxKey(4, 77), EncodeOutboxValue(records[0]));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->seq, 77);
  EXPECT_LT(OutboxKey(4, 255), OutboxKey(4, 256));
  EXPECT_LT(OutboxKey(4, INT64_MAX), OutboxKey(5, 0));
  EXPECT_FALSE(DecodeOutboxRecord(OutboxKey(4, 77).substr(1), EncodeOutboxValue(records[0])).ok());
  // Every truncation is refused or reads fewer whole records, never past the end; junk
  // never crashes (it comes from another node, or from a caller with a stolen token).
  for (size_t n = 1; n < bytes.size(); ++n) {
    auto cut = DecodeDelivery(bytes.substr(0, n));
    if (cut.ok()) {
      EXPECT_LT(cut->size(), 3u) << n;
    }
  }
  std::mt19937 random(5);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(random() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(random());
    (void)DecodeDelivery(junk);
    (void)DecodeOutboxRecord(OutboxKey(1, 1), junk);
  }
  std::string huge_length = bytes.substr(0, 8) + std::string("\xff\xff\xff\xff", 4);
  EXPECT_FALSE(DecodeDelivery(huge_length).ok());
}

TEST(TopicPlacement, EveryKeyOfATopicIsInItsShardAndAnOutboxRecordInItsSource) {
  constexpr int32_t kShards = 32;
  std::set<int32_t> used;
  for (uint64_t topic = 1; topic <= 200; ++topic) {
    const int32_t shard = ShardOfTopic(topic, kShards);
    ASSERT_GE(shard, 0);
    ASSERT_LT(shard, kShards);
    used.insert(shard);
    EXPECT_EQ(ShardOfTopicsKey(MessageKey(topic, 3, 12), kShards), shard);
    EXPECT_EQ(ShardOfTopicsKey(TopicLog::NextOffsetKey(topic, 3), kShards), shard);
    EXPECT_EQ(ShardOfTopicsKey(DeliveryMarkKey(topic, 7), kShards), shard);
    EXPECT_EQ(ShardOfTopicsKey(ConsumerGroups::TopicRange(topic).first + "g\0"s + "\0\0\0\0"s, kShards), shard);
    // A range delete is placed by its first key.
    EXPECT_EQ(ShardOfTopicsKey(TopicLog::PartitionRange(topic, 0, 10).first, kShards), shard);
  }
  EXPECT_GT(used.size(), 20u) << "topics spread over the shards";
  EXPECT_EQ(ShardOfTopicsKey(OutboxKey(17, 5), kShards), 17);
  EXPECT_EQ(ShardOfTopicsKey("", kShards), std::nullopt);
  EXPECT_EQ(ShardOfTopicsKey("m12", kShards), std::nullopt);
  EXPECT_EQ(ShardOfTopicsKey("zzzzzzzzzzzz", kShards), std::nullopt);
}

class TopicDefinitions : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::KvStore::Open(dir_.path() + "/rocksdb", false);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    auto catalog = catalog::Catalog::Open(*store_, dir_.path() + "/storage");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(catalog).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<store::KvStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(TopicDefinitions, AreCatalogRecordsThatSurviveAReopenAndNumbersAreNeverReused) {
  TopicRegistry registry(*catalog_);
  EXPECT_TRUE(registry.snapshot()->topics.empty());
  auto a = registry.Create("app", "a", 2, false);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->topic_num, 1u);
  EXPECT_EQ(registry.Create("app", "a", 2, false).status().code(), Code::kAlreadyExists);
  auto again = registry.Create("app", "a", 5, true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->partitions, 2) << "IF NOT EXISTS leaves the topic as it was";
  EXPECT_EQ(registry.Create("app", "bad", 0, false).status().code(), Code::kInvalidInput);
  ASSERT_TRUE(registry.AddSource("app.a", {"app:t", Op::kInsert, "x > 1", Payload::kDiff}).ok());
  EXPECT_EQ(registry.AddSource("app.a", {"app:t", Op::kInsert, "", Payload::kFull}).code(), Code::kAlreadyExists);
  EXPECT_EQ(registry.AddSource("app.nothing", {"app:t", Op::kInsert, "", Payload::kFull}).code(), Code::kNotFound);
  // Each change is seen at once (the snapshot follows the catalog's records).
  const auto seen = registry.snapshot();
  ASSERT_NE(seen->Find("app.a"), nullptr);
  ASSERT_EQ(seen->Find("app.a")->sources.size(), 1u);
  EXPECT_EQ(seen->Find("app.a")->sources[0].where_sql, "x > 1");
  EXPECT_EQ(seen->FindNum(1), seen->Find("app.a"));
  EXPECT_EQ(registry.snapshot(), seen) << "no change, the same snapshot";
  // A dropped topic's number is not handed out again, also after a reopen.
  ASSERT_TRUE(registry.Drop("app.a").ok());
  EXPECT_EQ(registry.Drop("app.a").status().code(), Code::kNotFound);
  auto b = registry.Create("app", "b", 1, false);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->topic_num, 2u);
  // Many changes in a row: each snapshot is the latest (a snapshot is never taken for the
  // records it was decoded from when new ones sit at the old ones' address).
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(registry.Create("app", "t" + std::to_string(i), 1, false).ok());
    ASSERT_NE(registry.snapshot()->Find("app.t" + std::to_string(i)), nullptr) << i;
    ASSERT_TRUE(registry.Drop("app.t" + std::to_string(i)).ok());
    ASSERT_EQ(registry.snapshot()->Find("app.t" + std::to_string(i)), nullptr) << i;
  }
  catalog_.reset();
  auto reopened = catalog::Catalog::Open(*store_, dir_.path() + "/storage");
  ASSERT_TRUE(reopened.ok());
  TopicRegistry after(**reopened);
  ASSERT_NE(after.snapshot()->Find("app.b"), nullptr);
  EXPECT_EQ(after.snapshot()->Find("app.a"), nullptr);
  EXPECT_EQ(after.snapshot()->next_topic_num, 53u);
  auto c = after.Create("app", "c", 1, false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->topic_num, 53u);
}

TEST_F(TopicDefinitions, ARecordChangeTouchesOnlyRecordKeys) {
  Status s = catalog_->ChangeRecords([](const catalog::Catalog::Records&, store::WriteSet& changes) {
    changes.Put(store::Family::kMeta, "user/x", "{}");
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), Code::kInternalError);
  EXPECT_EQ(catalog_->snapshot()->users.count("x"), 0u);
}

class TopicStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::KvStore::Open(dir_.path() + "/rocksdb", false);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    auto committer = store::Committer::Open(*store_, 1);
    ASSERT_TRUE(committer.ok());
    committer_ = std::move(committer).value();
  }

  // Appends n messages to the partition in one group write, as the router does.
  void Append(TopicLog& log, uint64_t topic, int32_t partition, int n, bool fail = false) {
    Status s = committer_->Commit([&](store::CommitContext& commit) {
      for (int i = 0; i < n; ++i) {
        Message m;
        m.partition = partition;
        m.offset = log.Assign(topic, partition);
        m.key = std::to_string(m.offset);
        m.payload = "{}";
        commit.PutUnread(store::Family::kTopics, MessageKey(topic, partition, m.offset), EncodeMessage(m));
      }
      for (const auto& [key, next] : log.PendingNext()) {
        commit.PutUnread(store::Family::kTopics, TopicLog::NextOffsetKey(key.first, key.second),
                         TopicLog::OffsetValue(next));
      }
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok());
    log.EndGroup(!fail);
  }

  testing::TempDir dir_;
  std::unique_ptr<store::KvStore> store_;
  std::unique_ptr<store::Committer> committer_;
};

TEST_F(TopicStore, OffsetsAreDenseAndAFailedGroupHandsThemBack) {
  TopicLog log(*store_);
  Append(log, 1, 0, 3);
  EXPECT_EQ(log.BoundsOf(1, 0).next, 3);
  // A group whose write failed: its offsets are handed out again.
  Append(log, 1, 0, 2, /*fail=*/true);
  EXPECT_EQ(log.BoundsOf(1, 0).next, 3);
  Append(log, 1, 0, 1);
  EXPECT_EQ(log.BoundsOf(1, 0).next, 4);
  auto read = log.Read(1, 0, 0, 100);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 4u);
  for (size_t i = 0; i < read->size(); ++i) EXPECT_EQ((*read)[i].offset, static_cast<int64_t>(i));
  // A limit and a start inside.
  read = log.Read(1, 0, 2, 1);
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ(read->front().offset, 2);
}

TEST_F(TopicStore, ANewLeaderTakesInWhatAnotherWroteAndBoundsNeverGoBack) {
  // Two nodes' views of one topic: the first appends and acknowledges, then the second
  // takes over (cluster mode: what the shard's log applied is in its store).
  TopicLog first(*store_);
  TopicLog second(*store_);
  Append(first, 4, 0, 3);
  EXPECT_EQ(second.BoundsOf(4, 0).next, 0);
  ASSERT_TRUE(second.Reload(4, 1).ok());
  EXPECT_EQ(second.BoundsOf(4, 0).next, 3);
  EXPECT_EQ(second.BoundsOf(4, 0).earliest, 0);
  auto stored = second.StoredBounds(4, 0);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->next, 3);
  Append(second, 4, 0, 2);
  auto read = second.Read(4, 0, 0, 10);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*read)[i].offset, i);
  // A reload never moves the bounds back (the store may lag what this node wrote).
  ASSERT_TRUE(first.Reload(4, 1).ok());
  EXPECT_EQ(first.BoundsOf(4, 0).next, 5);
  ASSERT_TRUE(second.Reload(4, 1).ok());
  EXPECT_EQ(second.BoundsOf(4, 0).next, 5);

  // b leads first and hands out everything; a takes over, reads the group from the store
  // and has the first two acknowledged; b leads again.
  ConsumerGroups a(*store_, *committer_, first, 1000);
  ConsumerGroups b(*store_, *committer_, second, 1000);
  const StartAt earliest{StartAt::Kind::kEarliest, 0};
  ASSERT_EQ(b.Consume(4, "g", 0, earliest, 10, 0)->size(), 5u);
  EXPECT_EQ(b.NextOf(4, "g", 0), 5);
  ASSERT_TRUE(a.Open().ok());
  ASSERT_EQ(a.Consume(4, "g", 0, earliest, 2, 0)->size(), 2u);
  ASSERT_EQ(*a.Ack(4, "g", 0, 1), 1);
  ASSERT_TRUE(b.Reload(4).ok());
  EXPECT_EQ(b.NextOf(4, "g", 0), 2) << "the store's committed offset, reservations gone";
  auto rest = b.Consume(4, "g", 0, earliest, 10, 0);
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ(rest->front().offset, 2);
  auto rows = a.StoredRows(4);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].committed, 1);
}

TEST_F(TopicStore, WaitersWakeOnTheNextAppendOnly) {
  TopicLog log(*store_);
  int woken = 0;
  const uint64_t version = log.Version(5);
  log.Wait(5, version, [&] { ++woken; });
  Append(log, 6, 0, 1);  // another topic
  EXPECT_EQ(woken, 0);
  Append(log, 5, 0, 1);
  EXPECT_EQ(woken, 1);
  Append(log, 5, 0, 1);
  EXPECT_EQ(woken, 1);  // once
  // A version already passed wakes at once; a cancelled wait never.
  log.Wait(5, version, [&] { ++woken; });
  EXPECT_EQ(woken, 2);
  const uint64_t id = log.Wait(5, log.Version(5), [&] { ++woken; });
  log.CancelWait(5, id);
  Append(log, 5, 0, 1);
  EXPECT_EQ(woken, 2);
}

TEST_F(TopicStore, ReservationsSplitAGroupAndLapse) {
  TopicLog log(*store_);
  Append(log, 1, 0, 10);
  ConsumerGroups groups(*store_, *committer_, log, /*visibility_timeout_ms=*/1000);
  ASSERT_TRUE(groups.Open().ok());
  const StartAt earliest{StartAt::Kind::kEarliest, 0};
  ASSERT_TRUE(groups.Begin(1, "g", 1, earliest).ok());
  auto a = groups.Consume(1, "g", 0, earliest, 4, /*now_ms=*/0);
  auto b = groups.Consume(1, "g", 0, earliest, 4, 10);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 4u);
  ASSERT_EQ(b->size(), 4u);
  EXPECT_EQ(a->front().offset, 0);
  EXPECT_EQ(b->front().offset, 4);  // not the same range
  // a's consumer acknowledges; b's lapses at 1010 and is delivered again, in parts.
  ASSERT_EQ(*groups.Ack(1, "g", 0, 3), 3);
  auto c = groups.Consume(1, "g", 0, earliest, 10, 500);
  ASSERT_EQ(c->size(), 2u);  // 8 and 9: b's range is still reserved
  EXPECT_EQ(c->front().offset, 8);
  auto d = groups.Consume(1, "g", 0, earliest, 2, 1011);
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ(d->front().offset, 4);
  auto e = groups.Consume(1, "g", 0, earliest, 10, 1012);
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ(e->front().offset, 6);
  EXPECT_TRUE(groups.Consume(1, "g", 0, earliest, 10, 1013)->empty());
  // c's consumer is done first: 4..7 are still held, so nothing moves; then d's and e's.
  ASSERT_EQ(*groups.Ack(1, "g", 0, 9), 3);
  ASSERT_EQ(*groups.Ack(1, "g", 0, 5), 5);
  ASSERT_EQ(*groups.Ack(1, "g", 0, 7), 9);  // over c's acknowledged range too
  // Acknowledgements never go back; past the end is refused.
  ASSERT_EQ(*groups.Ack(1, "g", 0, 5), 9);
  EXPECT_EQ(groups.Ack(1, "g", 0, 10).status().code(), Code::kInvalidInput);
  EXPECT_EQ(groups.LowestCommitted(1, 0), 9);
  // The committed offset is durable: a new instance reads it back.
  ConsumerGroups again(*store_, *committer_, log, 1000);
  ASSERT_TRUE(again.Open().ok());
  EXPECT_EQ(again.NextOf(1, "g", 0), 10);
  EXPECT_FALSE(ConsumerGroups::CheckName("").ok());
  EXPECT_FALSE(ConsumerGroups::CheckName("a\nb").ok());
  EXPECT_FALSE(ConsumerGroups::CheckName(std::string(129, 'x')).ok());
  EXPECT_TRUE(ConsumerGroups::CheckName("agent-1").ok());
}

}  // namespace
}  // namespace kalam::topics
