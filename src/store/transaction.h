// A transaction's reads and writes before COMMIT: the store as of its start (one snapshot)
// under the rows it wrote itself (its overlay). Statements write into the overlay through
// the same Writer interface the group committer gives them; at COMMIT, Apply runs under the
// committer's leader and turns the overlay into one atomic group of changes: first-committer
// -wins conflict checks, _seq values handed out then, in commit order, and the live events
// of every statement after it.
//
// It sits in store/ rather than beside the session (sql/session.h) because the scans in
// query/ read through it, and query/ is below sql/.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/committer.h"
#include "store/kv_store.h"

namespace kalam::store {

class Transaction {
 public:
  // Begins. The snapshot is taken at its first read or write (in cluster mode, after the
  // read gate has caught this replica up with the shard's leader); from then on the
  // committer counts it open until the destructor.
  Transaction(KvStore& store, Committer& committer);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // The last _seq the snapshot holds: rows committed later are not seen, and a row written
  // later by others is a conflict at COMMIT.
  int64_t begin_seq() const { return Begun().seq; }
  const std::shared_ptr<const KvStore::Snapshot>& snapshot() const { return Begun().snapshot; }

  // Reads: the transaction's own writes first, then the snapshot.
  Result<std::optional<std::string>> Get(Family family, std::string_view key) const;
  // An ordered cursor over the keys starting with prefix: the snapshot's with the
  // transaction's writes merged in (they replace the snapshot's version of a key).
  std::unique_ptr<KvStore::Cursor> NewCursor(Family family, std::string_view prefix) const;

  // Where a statement of the transaction writes (the overlay). _seq values handed out
  // here are provisional (above begin_seq, increasing); COMMIT replaces them.
  Writer& writer() { return writer_; }

  // Row versions written so far (every Put, rewrites of a key included).
  uint64_t rows_written() const { return writer_.puts; }
  // The tables it wrote to.
  const std::set<uint64_t>& tables() const { return writer_.tables; }
  bool empty() const { return writer_.puts == 0; }
  // BEGIN READ ONLY: statements that write are refused.
  bool read_only = false;

  // The work of COMMIT, run by the committer's leader: fails with TRANSACTION_CONFLICT
  // (writing nothing) when another transaction committed a change to one of its keys after
  // begin_seq; otherwise writes every row with its final _seq and emits its events.
  Status Apply(CommitContext& commit) const;

 private:
  class OverlayWriter final : public Writer {
   public:
    OverlayWriter(Transaction& owner, int64_t floor) : owner_(owner), provisional_(/*node_id=*/0, floor) {}
    int64_t NextSeq() override;
    Result<std::optional<std::string>> Get(Family family, const std::string& key) override;
    void Put(Family family, std::string key, std::string value) override;
    void Emit(ChangeEvent event) override { events.push_back(std::move(event)); }

    std::map<std::string, std::string> overlay[4];  // per Family: key -> encoded row
    std::vector<int64_t> seqs;                      // provisional, in the order handed out
    std::vector<ChangeEvent> events;
    std::set<uint64_t> tables;
    uint64_t puts = 0;

   private:
    Transaction& owner_;
    SeqGenerator provisional_;
  };

  // The snapshot and its _seq, taken at the first call (from any thread: a statement's
  // scans may run side by side).
  const Committer::Begun& Begun() const;

  KvStore& store_;
  Committer& committer_;
  mutable std::once_flag begun_once_;
  mutable Committer::Begun begun_;
  mutable bool begun_taken_ = false;  // set once, under begun_once_
  OverlayWriter writer_;
};

}  // namespace kalam::store
