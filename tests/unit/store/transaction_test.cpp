// A transaction against a real store: its reads (snapshot under overlay) agree with a
// reference model on random writes; COMMIT applies everything with fresh _seq values or,
// on a conflict, nothing.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "../temp_dir.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "store/row_codec.h"
#include "store/transaction.h"

namespace kalam::store {
namespace {

using kalam::testing::TempDir;

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = KvStore::Open(dir_.path() + "/rocksdb", /*sync=*/false);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    auto committer = Committer::Open(*store_, /*node_id=*/1);
    ASSERT_TRUE(committer.ok());
    committer_ = std::move(committer).value();
  }

  static std::string Key(uint64_t table, int64_t id) {
    std::string key = ScopePrefix(table, "");
    AppendKeyCell(key, ColumnType::kBigInt, Cell(id));
    return key;
  }
  static std::string Row(int64_t seq, int64_t value) {
    return EncodeRow(RowVersion{1, seq, false, {Cell(value)}}, {ColumnType::kBigInt});
  }
  static int64_t ValueOf(const std::string& bytes) {
    RowVersion row;
    EXPECT_TRUE(DecodeRowHeader(bytes, row).ok());
    EXPECT_TRUE(DecodeRowCells(bytes, {ColumnType::kBigInt}, row).ok());
    return std::get<int64_t>(row.cells[0]);
  }
  static int64_t SeqOf(const std::string& bytes) {
    RowVersion row;
    EXPECT_TRUE(DecodeRowHeader(bytes, row).ok());
    return row.seq;
  }
  // Commits value at key as a statement of its own.
  void Write(uint64_t table, int64_t id, int64_t value) {
    ASSERT_TRUE(committer_->Commit([&](CommitContext& c) {
      c.Put(Family::kHot, Key(table, id), Row(c.NextSeq(), value));
      return Status::Ok();
    }).ok());
  }
  std::map<int64_t, int64_t> ScanCommitted(uint64_t table) {
    std::map<int64_t, int64_t> out;
    auto cursor = store_->NewCursor(Family::kHot, ScopePrefix(table, ""));
    for (; cursor->Valid(); cursor->Next()) {
      out[std::get<int64_t>(DecodeKeyCell(cursor->key(), ColumnType::kBigInt))] = ValueOf(std::string(cursor->value()));
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<KvStore> store_;
  std::unique_ptr<Committer> committer_;
};

// The overlay cursor and point reads against a model (std::map) on random writes made
// before and after BEGIN and inside the transaction, with random seeks.
TEST_F(TransactionTest, ReadsAgreeWithAModelOnRandomWrites) {
  std::mt19937 random(42);
  for (int round = 0; round < 20; ++round) {
    const uint64_t table = 100 + round;
    std::map<int64_t, int64_t> model;  // what the transaction must see
    for (int i = 0; i < 40; ++i) {
      const int64_t id = random() % 60, value = random() % 1000;
      Write(table, id, value);
      model[id] = value;
    }
    Transaction txn(*store_, *committer_);
    txn.begin_seq();  // its first read takes the snapshot
    for (int i = 0; i < 20; ++i) Write(table, random() % 60, -1);  // after it: unseen
    Write(table + 1000, 1, 1);                                        // another table: unseen
    for (int i = 0; i < 30; ++i) {
      const int64_t id = random() % 80, value = 1000 + random() % 1000;
      txn.writer().Put(Family::kHot, Key(table, id), Row(txn.writer().NextSeq(), value));
      model[id] = value;
    }
    auto cursor = txn.NewCursor(Family::kHot, ScopePrefix(table, ""));
    std::map<int64_t, int64_t> seen;
    for (; cursor->Valid(); cursor->Next()) {
      seen[std::get<int64_t>(DecodeKeyCell(cursor->key(), ColumnType::kBigInt))] = ValueOf(std::string(cursor->value()));
    }
    ASSERT_TRUE(cursor->status().ok());
    EXPECT_EQ(seen, model) << "round " << round;
    for (int i = 0; i < 20; ++i) {
      const int64_t target = random() % 90;
      cursor->Seek(Key(table, target));
      auto expected = model.lower_bound(target);
      if (expected == model.end()) {
        EXPECT_FALSE(cursor->Valid());
      } else {
        ASSERT_TRUE(cursor->Valid());
        EXPECT_EQ(std::get<int64_t>(DecodeKeyCell(cursor->key(), ColumnType::kBigInt)), expected->first);
        EXPECT_EQ(ValueOf(std::string(cursor->value())), expected->second);
      }
      auto got = txn.Get(Family::kHot, Key(table, target));
      ASSERT_TRUE(got.ok());
      auto want = model.find(target);
      EXPECT_EQ(got->has_value(), want != model.end());
      if (got->has_value() && want != model.end()) {
        EXPECT_EQ(ValueOf(**got), want->second);
      }
    }
  }
}

TEST_F(TransactionTest, CommitAppliesEverythingWithFinalSeqsInOrder) {
  Write(1, 1, 10);
  const int64_t before = committer_->last_seq();
  Transaction txn(*store_, *committer_);
  EXPECT_EQ(txn.begin_seq(), before);
  const int64_t p1 = txn.writer().NextSeq();
  txn.writer().Put(Family::kHot, Key(1, 1), Row(p1, 11));
  const int64_t p2 = txn.writer().NextSeq();
  txn.writer().Put(Family::kHot, Key(1, 2), Row(p2, 20));
  txn.writer().Emit(ChangeEvent{"ns:t", "", ChangeEvent::Kind::kInsert, 1, {{{Cell(int64_t{20})}, p2}}, {}});
  // Nothing is visible before COMMIT.
  EXPECT_EQ(ScanCommitted(1), (std::map<int64_t, int64_t>{{1, 10}}));
  std::vector<ChangeEvent> published;
  committer_->SetListener([&](std::vector<ChangeEvent>& events, int64_t) {
    for (auto& e : events) published.push_back(e);
  });
  ASSERT_TRUE(committer_->Commit([&](CommitContext& c) { return txn.Apply(c); }).ok());
  EXPECT_EQ(ScanCommitted(1), (std::map<int64_t, int64_t>{{1, 11}, {2, 20}}));
  auto row1 = store_->Get(Family::kHot, Key(1, 1));
  auto row2 = store_->Get(Family::kHot, Key(1, 2));
  const int64_t s1 = SeqOf(**row1), s2 = SeqOf(**row2);
  EXPECT_GT(s1, before);
  EXPECT_GT(s2, s1);  // in the order the provisional ones were handed out
  EXPECT_EQ(committer_->last_seq(), s2);
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].rows.at(0).seq, s2);  // the event carries the final _seq
}

TEST_F(TransactionTest, FirstCommitterWinsAndTheLoserAppliesNothing) {
  Write(1, 1, 0);
  Transaction first(*store_, *committer_);
  Transaction second(*store_, *committer_);
  for (Transaction* t : {&first, &second}) {
    auto current = t->Get(Family::kHot, Key(1, 1));
    t->writer().Put(Family::kHot, Key(1, 1), Row(t->writer().NextSeq(), ValueOf(**current) + 1));
    t->writer().Put(Family::kHot, Key(1, t == &first ? 2 : 3), Row(t->writer().NextSeq(), 5));
  }
  ASSERT_TRUE(committer_->Commit([&](CommitContext& c) { return first.Apply(c); }).ok());
  Status lost = committer_->Commit([&](CommitContext& c) { return second.Apply(c); });
  EXPECT_EQ(lost.code(), Code::kTransactionConflict);
  EXPECT_EQ(ScanCommitted(1), (std::map<int64_t, int64_t>{{1, 1}, {2, 5}}));  // nothing of the second

  // A row a flush took out of the hot store after BEGIN counts as changed (its cold
  // version may be newer); a transaction that began after the flush commits.
  Transaction third(*store_, *committer_);
  third.writer().Put(Family::kHot, Key(1, 9), Row(third.writer().NextSeq(), 9));
  ASSERT_TRUE(committer_->Commit([&](CommitContext& c) {
    c.Put(Family::kHot, Key(1, 7), Row(c.NextSeq(), 7));
    c.NoteRemovedFromHot(1, c.NextSeq());
    return Status::Ok();
  }).ok());
  EXPECT_EQ(committer_->Commit([&](CommitContext& c) { return third.Apply(c); }).code(), Code::kTransactionConflict);
  Transaction fifth(*store_, *committer_);  // began after the flush: no conflict
  fifth.writer().Put(Family::kHot, Key(1, 8), Row(fifth.writer().NextSeq(), 8));
  EXPECT_TRUE(committer_->Commit([&](CommitContext& c) { return fifth.Apply(c); }).ok());
}

TEST_F(TransactionTest, OpenTransactionsAreCountedUntilTheyEnd) {
  EXPECT_EQ(committer_->OldestOpenTransaction(), std::numeric_limits<int64_t>::max());
  Write(1, 1, 1);
  auto first = std::make_unique<Transaction>(*store_, *committer_);
  // Begun, it has no snapshot until its first read: what committed before that is seen.
  EXPECT_EQ(committer_->OldestOpenTransaction(), std::numeric_limits<int64_t>::max());
  Write(1, 1, 2);
  auto read = first->Get(Family::kHot, Key(1, 1));
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(ValueOf(**read), 2);
  Write(1, 1, 3);
  auto second = std::make_unique<Transaction>(*store_, *committer_);
  second->begin_seq();
  const int64_t oldest = committer_->OldestOpenTransaction();
  EXPECT_EQ(oldest, first->begin_seq());
  EXPECT_LT(first->begin_seq(), second->begin_seq());
  first.reset();
  EXPECT_EQ(committer_->OldestOpenTransaction(), second->begin_seq());
  second.reset();
  EXPECT_EQ(committer_->OldestOpenTransaction(), std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace kalam::store
