// The topics part below the server: the message codec and its refusal of damaged bytes,
// partition hashing, the log's offsets across group writes that succeed or fail and its
// wake-ups, and consumer groups' reservations with a clock the test sets.
#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace std::string_literals;

#include "../temp_dir.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "topics/consumer_groups.h"
#include "topics/log.h"
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
