#include "cluster/shard_entry.h"

#include <cstring>
#include <type_traits>

#include "store/row_codec.h"

namespace kalam::cluster {
namespace {

constexpr uint8_t kFormat = 1;

enum class OpKind : uint8_t { kPut = 0, kDelete = 1, kDeleteRange = 2 };
enum class CellTag : uint8_t { kNull = 0, kInt = 1, kDouble = 2, kBytes = 3, kInt128 = 4 };

uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

class Writer {
 public:
  template <typename T>
  void Fixed(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    out_.append(bytes, sizeof(T));
  }
  void Bytes(std::string_view s) {
    Fixed<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void Cells(const std::vector<store::Cell>& cells) {
    Fixed<uint32_t>(static_cast<uint32_t>(cells.size()));
    for (const store::Cell& c : cells) {
      if (const auto* i = std::get_if<int64_t>(&c)) {
        Fixed(CellTag::kInt);
        Fixed(*i);
      } else if (const auto* d = std::get_if<double>(&c)) {
        Fixed(CellTag::kDouble);
        Fixed(*d);
      } else if (const auto* s = std::get_if<std::string>(&c)) {
        Fixed(CellTag::kBytes);
        Bytes(*s);
      } else if (const auto* w = std::get_if<store::Int128>(&c)) {
        Fixed(CellTag::kInt128);
        Fixed(w->lo);
        Fixed(w->hi);
      } else {
        Fixed(CellTag::kNull);
      }
    }
  }
  void Rows(const std::vector<store::RowImage>& rows) {
    Fixed<uint32_t>(static_cast<uint32_t>(rows.size()));
    for (const store::RowImage& r : rows) {
      Fixed(r.seq);
      Cells(r.cells);
    }
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

  template <typename T>
  T Fixed() {
    T v{};
    if (in_.size() < sizeof(T)) {
      ok_ = false;
      in_ = {};
      return v;
    }
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return v;
  }
  std::string Bytes() {
    const uint32_t n = Fixed<uint32_t>();
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      in_ = {};
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  // A count of things each at least min_bytes long: refused when the rest can't hold them
  // (so junk never makes a huge allocation).
  uint32_t Count(size_t min_bytes) {
    const uint32_t n = Fixed<uint32_t>();
    if (!ok_ || n > in_.size() / min_bytes) {
      ok_ = false;
      in_ = {};
      return 0;
    }
    return n;
  }
  std::vector<store::Cell> Cells() {
    std::vector<store::Cell> cells(Count(1));
    for (store::Cell& c : cells) {
      switch (Fixed<CellTag>()) {
        case CellTag::kNull:
          break;
        case CellTag::kInt:
          c = Fixed<int64_t>();
          break;
        case CellTag::kDouble:
          c = Fixed<double>();
          break;
        case CellTag::kBytes:
          c = Bytes();
          break;
        case CellTag::kInt128: {
          store::Int128 w;
          w.lo = Fixed<uint64_t>();
          w.hi = Fixed<int64_t>();
          c = w;
          break;
        }
        default:
          ok_ = false;
          in_ = {};
      }
      if (!ok_) return {};
    }
    return cells;
  }
  std::vector<store::RowImage> Rows() {
    std::vector<store::RowImage> rows(Count(12));
    for (store::RowImage& r : rows) {
      r.seq = Fixed<int64_t>();
      r.cells = Cells();
      if (!ok_) return {};
    }
    return rows;
  }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeShardLogEntry(const ShardLogEntry& entry) {
  Writer w;
  w.Fixed(kFormat);
  w.Fixed(entry.last_seq);
  w.Fixed<uint32_t>(static_cast<uint32_t>(entry.changes.size()));
  for (const store::WriteSet::Op& op : entry.changes.ops()) {
    w.Fixed(static_cast<uint8_t>(op.family));
    if (op.range_end) {
      w.Fixed(OpKind::kDeleteRange);
      w.Bytes(op.key);
      w.Bytes(*op.range_end);
    } else if (op.value) {
      w.Fixed(OpKind::kPut);
      w.Bytes(op.key);
      w.Bytes(*op.value);
    } else {
      w.Fixed(OpKind::kDelete);
      w.Bytes(op.key);
    }
  }
  w.Fixed<uint32_t>(static_cast<uint32_t>(entry.events.size()));
  for (const store::ChangeEvent& e : entry.events) {
    w.Bytes(e.table_id);
    w.Bytes(e.scope);
    w.Fixed(static_cast<uint8_t>(e.kind));
    w.Fixed(e.schema_version);
    w.Rows(e.rows);
    w.Rows(e.old_rows);
  }
  return w.Take();
}

Result<ShardLogEntry> DecodeShardLogEntry(std::string_view bytes) {
  Reader r(bytes);
  const Status malformed(Code::kInternalError, "a malformed shard entry");
  if (r.Fixed<uint8_t>() != kFormat) {
    return Status(Code::kInternalError, "a shard entry of an unknown format (written by a newer version?)");
  }
  ShardLogEntry entry;
  entry.last_seq = r.Fixed<int64_t>();
  const uint32_t ops = r.Count(6);
  for (uint32_t i = 0; i < ops && r.ok(); ++i) {
    const uint8_t family = r.Fixed<uint8_t>();
    const OpKind kind = r.Fixed<OpKind>();
    if (family > static_cast<uint8_t>(store::Family::kTopics)) return malformed;
    const auto f = static_cast<store::Family>(family);
    std::string key = r.Bytes();
    switch (kind) {
      case OpKind::kPut: {
        std::string value = r.Bytes();
        entry.changes.Put(f, std::move(key), std::move(value));
        break;
      }
      case OpKind::kDelete:
        entry.changes.Delete(f, std::move(key));
        break;
      case OpKind::kDeleteRange: {
        std::string end = r.Bytes();
        entry.changes.DeleteRange(f, std::move(key), std::move(end));
        break;
      }
      default:
        return malformed;
    }
  }
  const uint32_t events = r.Count(17);
  for (uint32_t i = 0; i < events && r.ok(); ++i) {
    store::ChangeEvent e;
    e.table_id = r.Bytes();
    e.scope = r.Bytes();
    const uint8_t kind = r.Fixed<uint8_t>();
    if (kind > static_cast<uint8_t>(store::ChangeEvent::Kind::kDelete)) return malformed;
    e.kind = static_cast<store::ChangeEvent::Kind>(kind);
    e.schema_version = r.Fixed<uint32_t>();
    e.rows = r.Rows();
    e.old_rows = r.Rows();
    entry.events.push_back(std::move(e));
  }
  if (!r.ok() || !r.done()) return malformed;
  return entry;
}

std::string EncodeUserRows(const UserRows& rows) {
  Writer w;
  w.Fixed(kFormat);
  w.Fixed<uint32_t>(static_cast<uint32_t>(rows.rows.size()));
  for (const auto& [key, value] : rows.rows) {
    w.Bytes(key);
    w.Bytes(value);
  }
  w.Fixed<uint32_t>(static_cast<uint32_t>(rows.cold_users.size()));
  for (const std::string& user : rows.cold_users) w.Bytes(user);
  return w.Take();
}

Result<UserRows> DecodeUserRows(std::string_view bytes) {
  Reader r(bytes);
  if (r.Fixed<uint8_t>() != kFormat) return Status(Code::kInternalError, "rows of an unknown format");
  UserRows out;
  const uint32_t rows = r.Count(8);
  out.rows.reserve(rows);
  for (uint32_t i = 0; i < rows && r.ok(); ++i) {
    std::string key = r.Bytes();
    std::string value = r.Bytes();
    out.rows.emplace_back(std::move(key), std::move(value));
  }
  const uint32_t users = r.Count(4);
  for (uint32_t i = 0; i < users && r.ok(); ++i) out.cold_users.push_back(r.Bytes());
  if (!r.ok() || !r.done()) return Status(Code::kInternalError, "malformed rows from another node");
  return out;
}

int32_t ShardOfUser(std::string_view user_id, int32_t shards) {
  return static_cast<int32_t>(Fnv1a(user_id) % static_cast<uint64_t>(std::max(1, shards)));
}

int32_t ShardOfTable(uint64_t table_num, int32_t shards) {
  return ShardOfUser("table/" + std::to_string(table_num), shards);
}

std::optional<int32_t> ShardOfRowKey(std::string_view key, int32_t shards) {
  const std::optional<store::KeyTable> table = store::TableOfKey(key);
  if (key.size() < 9 || !table) return std::nullopt;
  const std::string_view scope = store::ScopeOfKey(key);
  return scope.empty() ? ShardOfTable(table->table_num, shards) : ShardOfUser(scope, shards);
}

}  // namespace kalam::cluster
