// The session's transaction states and limits, on a real store: a failed transaction
// refuses statements until it ends, the row limit and the idle limit roll it back.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <thread>

#include "../temp_dir.h"
#include "sql/session.h"
#include "store/committer.h"
#include "store/row_codec.h"

namespace kalam::sql {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::KvStore::Open(dir_.path() + "/rocksdb", /*sync=*/false);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    auto committer = store::Committer::Open(*store_, 1);
    ASSERT_TRUE(committer.ok());
    committer_ = std::move(committer).value();
  }
  void WriteRows(Session& session, int n) {
    auto& writer = session.transaction()->writer();
    for (int i = 0; i < n; ++i) {
      std::string key = store::ScopePrefix(1, "");
      store::AppendKeyCell(key, ColumnType::kBigInt, store::Cell(int64_t{i}));
      writer.Put(store::Family::kHot, key,
                 store::EncodeRow({1, writer.NextSeq(), false, {store::Cell(int64_t{i})}}, {ColumnType::kBigInt}));
    }
  }

  kalam::testing::TempDir dir_;
  std::unique_ptr<store::KvStore> store_;
  std::unique_ptr<store::Committer> committer_;
};

TEST_F(SessionTest, AFailedTransactionRefusesStatementsUntilItEnds) {
  Session session;
  EXPECT_EQ(session.transaction(), nullptr);
  session.Begin(*store_, *committer_, false);
  ASSERT_NE(session.transaction(), nullptr);
  EXPECT_TRUE(session.BeforeStatement().ok());
  session.Fail(Status(Code::kConstraintViolation, "duplicate key"));
  EXPECT_EQ(session.state(), Session::State::kFailed);
  EXPECT_EQ(session.transaction(), nullptr);
  const Status refused = session.BeforeStatement();
  EXPECT_EQ(refused.code(), Code::kTransactionAborted);
  EXPECT_NE(refused.message().find("duplicate key"), std::string::npos);
  // The failed transaction no longer holds its snapshot open.
  EXPECT_EQ(committer_->OldestOpenTransaction(), std::numeric_limits<int64_t>::max());
  session.End();
  EXPECT_TRUE(session.BeforeStatement().ok());
}

TEST_F(SessionTest, TheRowLimitRollsBack) {
  Session session({/*max_transaction_rows=*/5, /*idle=*/60});
  session.Begin(*store_, *committer_, false);
  WriteRows(session, 5);
  EXPECT_TRUE(session.AfterStatement().ok());
  WriteRows(session, 1);
  EXPECT_EQ(session.AfterStatement().code(), Code::kResourceExhausted);
  EXPECT_EQ(session.state(), Session::State::kFailed);
}

TEST_F(SessionTest, AnIdleTransactionIsRolledBackAtTheNextStatement) {
  Session session({/*max_transaction_rows=*/0, /*idle=*/1});
  session.Begin(*store_, *committer_, false);
  EXPECT_TRUE(session.AfterStatement().ok());
  const auto ended = std::chrono::steady_clock::now();
  // Poll with a deadline: the first statement more than a second after the last one ended
  // is refused (checking does not count as a statement).
  Status status;
  while (std::chrono::steady_clock::now() < ended + std::chrono::seconds(5) &&
         (status = session.BeforeStatement()).ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status.code(), Code::kTransactionAborted);
  EXPECT_NE(status.message().find("idle"), std::string::npos);
  EXPECT_GE(std::chrono::steady_clock::now() - ended, std::chrono::seconds(1));
  EXPECT_EQ(session.state(), Session::State::kFailed);
}

}  // namespace
}  // namespace kalam::sql
