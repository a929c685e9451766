// A session: what lasts between one caller's statements — today its open transaction.
// An HTTP request is a session (its batch); a Postgres-wire connection will hold one for
// its life. The statements between BEGIN and COMMIT read one snapshot under their own
// writes and commit at COMMIT, atomically; an error inside, ROLLBACK, or the end of the
// session discards them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "query/engine.h"
#include "store/transaction.h"

namespace kalam::sql {

struct SessionLimits {
  uint64_t max_transaction_rows = 100000;     // row versions one transaction may write
  int64_t idle_in_transaction_timeout_secs = 60;  // 0: no limit
};

class Session {
 public:
  explicit Session(SessionLimits limits = {}) : limits_(limits) {}

  enum class State {
    kIdle,           // no transaction: each statement commits on its own
    kInTransaction,  // between BEGIN and COMMIT
    kFailed,         // a statement failed inside the transaction: only ROLLBACK/COMMIT end it
  };
  State state() const { return state_; }
  // The open transaction the session's statements read and write; null outside one.
  store::Transaction* transaction() { return state_ == State::kInTransaction ? transaction_.get() : nullptr; }

  // BEGIN. Inside a transaction already: nothing changes (as PostgreSQL, with a notice).
  void Begin(store::KvStore& store, store::Committer& committer, bool read_only);
  // Ends the transaction, applied or not (COMMIT hands it over first with Take).
  void End();
  std::unique_ptr<store::Transaction> Take();
  // A statement failed inside the transaction: it can no longer commit.
  void Fail(const Status& why);

  // Before each statement: refuses to run inside a failed transaction, and ends one left
  // idle past the limit.
  Status BeforeStatement();
  // After each statement: the transaction within its row limit.
  Status AfterStatement();

  // Cluster mode: how fresh the rows the session reads must be.
  query::ReadFreshness freshness() const { return freshness_; }
  void set_freshness(query::ReadFreshness freshness) { freshness_ = freshness; }

 private:
  // Fails the transaction for why, and returns it.
  Status Abort(Status why);

  SessionLimits limits_;
  State state_ = State::kIdle;
  std::unique_ptr<store::Transaction> transaction_;
  std::string failure_;  // why it failed
  std::chrono::steady_clock::time_point last_statement_{};
  query::ReadFreshness freshness_ = query::ReadFreshness::kReplica;
};

}  // namespace kalam::sql
