#include "sql/session.h"

namespace kalam::sql {

void Session::Begin(store::KvStore& store, store::Committer& committer, bool read_only) {
  if (state_ != State::kIdle) return;
  transaction_ = std::make_unique<store::Transaction>(store, committer);
  transaction_->read_only = read_only;
  state_ = State::kInTransaction;
  last_statement_ = std::chrono::steady_clock::now();
}

void Session::End() {
  transaction_.reset();
  failure_.clear();
  state_ = State::kIdle;
}

std::unique_ptr<store::Transaction> Session::Take() {
  std::unique_ptr<store::Transaction> taken = std::move(transaction_);
  End();
  return taken;
}

void Session::Fail(const Status& why) {
  if (state_ != State::kInTransaction) return;
  // Its snapshot and rows go now; the session stays in the failed transaction until it ends.
  transaction_.reset();
  failure_ = why.message();
  state_ = State::kFailed;
}

Status Session::Abort(Status why) {
  Fail(why);
  return why;
}

Status Session::BeforeStatement() {
  if (state_ == State::kFailed) {
    return Status(Code::kTransactionAborted,
                  "The transaction was aborted by an earlier error (" + failure_ +
                      "): statements are refused until ROLLBACK");
  }
  if (state_ == State::kInTransaction && limits_.idle_in_transaction_timeout_secs > 0) {
    const auto idle = std::chrono::steady_clock::now() - last_statement_;
    if (idle > std::chrono::seconds(limits_.idle_in_transaction_timeout_secs)) {
      return Abort({Code::kTransactionAborted,
                    "The transaction was idle longer than idle_in_transaction_timeout_secs (" +
                        std::to_string(limits_.idle_in_transaction_timeout_secs) + " s) and was rolled back"});
    }
  }
  return Status::Ok();
}

Status Session::AfterStatement() {
  last_statement_ = std::chrono::steady_clock::now();
  if (state_ == State::kInTransaction && limits_.max_transaction_rows > 0 &&
      transaction_->rows_written() > limits_.max_transaction_rows) {
    return Abort({Code::kResourceExhausted, "The transaction wrote more than max_transaction_rows (" +
                                                std::to_string(limits_.max_transaction_rows) +
                                                ") row versions; it was rolled back"});
  }
  return Status::Ok();
}

}  // namespace kalam::sql
