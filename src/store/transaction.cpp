#include "store/transaction.h"

#include <unordered_map>

#include "store/row_codec.h"

namespace kalam::store {
namespace {

size_t Index(Family family) { return static_cast<size_t>(family); }

// The snapshot's keys under a prefix with the overlay's merged in, in key order; where both
// hold a key, the overlay's version is the one seen.
class OverlayCursor final : public KvStore::Cursor {
 public:
  OverlayCursor(std::unique_ptr<KvStore::Cursor> base, const std::map<std::string, std::string>& overlay,
                std::string_view prefix)
      : base_(std::move(base)), overlay_(overlay), prefix_(prefix) {
    it_ = overlay_.lower_bound(prefix_);
  }

  bool Valid() const override { return base_->Valid() || OverlayValid(); }
  void Next() override {
    const bool from_overlay = FromOverlay();
    if (from_overlay) {
      // The snapshot's version of the same key is replaced: step over it too.
      if (base_->Valid() && base_->key() == std::string_view(it_->first)) base_->Next();
      ++it_;
    } else {
      base_->Next();
    }
  }
  void Seek(std::string_view target) override {
    base_->Seek(target);
    it_ = overlay_.lower_bound(std::string(std::max(target, std::string_view(prefix_))));
  }
  std::string_view key() const override { return FromOverlay() ? std::string_view(it_->first) : base_->key(); }
  std::string_view value() const override {
    return FromOverlay() ? std::string_view(it_->second) : base_->value();
  }
  Status status() const override { return base_->status(); }

 private:
  bool OverlayValid() const { return it_ != overlay_.end() && it_->first.starts_with(prefix_); }
  // Whether the current key is the overlay's (the smaller key; the overlay's on a tie).
  bool FromOverlay() const {
    if (!OverlayValid()) return false;
    if (!base_->Valid()) return true;
    return std::string_view(it_->first) <= base_->key();
  }

  std::unique_ptr<KvStore::Cursor> base_;
  const std::map<std::string, std::string>& overlay_;
  const std::string prefix_;
  std::map<std::string, std::string>::const_iterator it_;
};

}  // namespace

Transaction::Transaction(KvStore& store, Committer& committer)
    : store_(store), committer_(committer), writer_(*this, /*floor=*/0) {}

Transaction::~Transaction() {
  if (begun_taken_) committer_.EndTransaction(begun_.seq);
}

const Committer::Begun& Transaction::Begun() const {
  std::call_once(begun_once_, [this] {
    begun_ = committer_.BeginTransaction();
    begun_taken_ = true;
  });
  return begun_;
}

Result<std::optional<std::string>> Transaction::Get(Family family, std::string_view key) const {
  const auto& overlay = writer_.overlay[Index(family)];
  auto it = overlay.find(std::string(key));
  if (it != overlay.end()) return std::optional<std::string>(it->second);
  return store_.Get(family, key, Begun().snapshot.get());
}

std::unique_ptr<KvStore::Cursor> Transaction::NewCursor(Family family, std::string_view prefix) const {
  auto base = store_.NewCursor(family, prefix, Begun().snapshot.get());
  const auto& overlay = writer_.overlay[Index(family)];
  if (overlay.empty()) return base;
  return std::make_unique<OverlayCursor>(std::move(base), overlay, prefix);
}

int64_t Transaction::OverlayWriter::NextSeq() {
  provisional_.Raise(owner_.begin_seq());  // above the snapshot's
  const int64_t seq = provisional_.Next();
  seqs.push_back(seq);
  return seq;
}

Result<std::optional<std::string>> Transaction::OverlayWriter::Get(Family family, const std::string& key) {
  return owner_.Get(family, key);
}

void Transaction::OverlayWriter::Put(Family family, std::string key, std::string value) {
  owner_.Begun();  // a write takes the snapshot too: conflicts are found against it
  if (const auto table = TableOfKey(key)) tables.insert(table->table_num);
  ++puts;
  overlay[Index(family)][std::move(key)] = std::move(value);
}

Status Transaction::Apply(CommitContext& commit) const {
  const int64_t begin = Begun().seq;
  // First committer wins: a key whose newest committed version is younger than the
  // snapshot was changed by a transaction that committed first. STREAM rows are keyed by
  // fresh _seq values and never collide.
  for (const auto& [key, value] : writer_.overlay[Index(Family::kHot)]) {
    auto current = commit.Get(Family::kHot, key);
    if (!current.ok()) return current.status();
    int64_t newest = 0;
    if (current->has_value()) {
      RowVersion header;
      KALAM_RETURN_IF_ERROR(DecodeRowHeader(**current, header));
      newest = header.seq;
    } else {
      // No hot version: the key is new, or a flush moved it to a cold segment; how recent
      // the cold version is, the flush's newest _seq bounds.
      newest = commit.RemovedFromHot(TableOfKey(key).value_or(KeyTable{}).table_num);
    }
    if (newest > begin) {
      return Status(Code::kTransactionConflict,
                    "The transaction wrote a row that another transaction changed and committed "
                    "after it began; nothing was applied (retry the transaction)");
    }
  }
  // Final _seq values, in the order the provisional ones were handed out: commit order.
  std::unordered_map<int64_t, int64_t> final_seq;
  final_seq.reserve(writer_.seqs.size());
  for (const int64_t provisional : writer_.seqs) final_seq[provisional] = commit.NextSeq();
  auto final_of = [&](int64_t seq) {
    auto it = final_seq.find(seq);
    return it == final_seq.end() ? seq : it->second;
  };
  for (const Family family : {Family::kHot, Family::kStream}) {
    for (const auto& [key, value] : writer_.overlay[Index(family)]) {
      RowVersion header;
      KALAM_RETURN_IF_ERROR(DecodeRowHeader(value, header));
      const int64_t seq = final_of(header.seq);
      std::string row = value;
      SetRowSeq(row, seq);
      if (family == Family::kStream) {
        // STREAM keys end with the row's _seq.
        std::string final_key = key.substr(0, key.size() - 8);
        AppendKeyCell(final_key, ColumnType::kBigInt, Cell(seq));
        commit.Put(family, std::move(final_key), std::move(row));
      } else {
        commit.Put(family, key, std::move(row));
      }
    }
  }
  for (const ChangeEvent& event : writer_.events) {
    ChangeEvent out = event;
    for (auto& row : out.rows) row.seq = final_of(row.seq);
    for (auto& row : out.old_rows) row.seq = final_of(row.seq);
    commit.Emit(std::move(out));
  }
  return Status::Ok();
}

}  // namespace kalam::store
