#include "store/row_codec.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace kalam::store {
namespace {

constexpr size_t kHeaderSize = 4 + 8 + 1;

void PutBigEndian64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

template <typename T>
void PutRaw(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
bool GetRaw(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

Status Corrupt() { return {Code::kInternalError, "a stored row is unreadable"}; }

}  // namespace

std::string TablePrefix(uint64_t table_num) {
  std::string key;
  PutBigEndian64(key, table_num);
  return key;
}

namespace {
constexpr uint64_t kMarkerBit = uint64_t{1} << 63;
}

std::string MarkerKey(std::string_view row_key) {
  std::string key(row_key);
  if (!key.empty()) key[0] = static_cast<char>(static_cast<unsigned char>(key[0]) | 0x80);
  return key;
}

std::string MarkerTablePrefix(uint64_t table_num) { return TablePrefix(table_num | kMarkerBit); }

std::optional<KeyTable> TableOfKey(std::string_view key) {
  if (key.size() < 8) return std::nullopt;
  uint64_t number = 0;
  for (int i = 0; i < 8; ++i) number = (number << 8) | static_cast<unsigned char>(key[i]);
  return KeyTable{number & ~kMarkerBit, (number & kMarkerBit) != 0};
}

std::string ScopePrefix(uint64_t table_num, std::string_view scope) {
  std::string key = TablePrefix(table_num);
  key.append(scope);
  key.push_back('\0');
  return key;
}

std::string_view ScopeOfKey(std::string_view key) {
  if (key.size() < 8) return {};
  key.remove_prefix(8);
  return key.substr(0, key.find('\0'));
}

void AppendKeyCell(std::string& key, ColumnType type, const Cell& cell) {
  switch (type) {
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      // IEEE order: flip every bit of negatives, only the sign bit of positives. The
      // engine holds -0.0 equal to +0.0 and every NaN equal and above +inf: one key each.
      uint64_t bits;
      double d = std::get<double>(cell);
      if (d == 0) d = 0.0;
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      std::memcpy(&bits, &d, 8);
      bits = (bits & (1ull << 63)) ? ~bits : bits | (1ull << 63);
      PutBigEndian64(key, bits);
      return;
    }
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson:
      key.append(std::get<std::string>(cell));  // the last part of the key: no terminator
      return;
    case ColumnType::kDecimal:
    case ColumnType::kUuid: {
      const Int128& v = std::get<Int128>(cell);
      PutBigEndian64(key, static_cast<uint64_t>(v.hi) ^ (1ull << 63));
      PutBigEndian64(key, v.lo);
      return;
    }
    default:
      PutBigEndian64(key, static_cast<uint64_t>(std::get<int64_t>(cell)) ^ (1ull << 63));
      return;
  }
}

Cell DecodeKeyCell(std::string_view key, ColumnType type) {
  // The key cell follows table_num, scope and its 0x00.
  key.remove_prefix(std::min<size_t>(key.size(), 8));
  key.remove_prefix(std::min(key.size(), key.find('\0') + 1));
  auto be64 = [](std::string_view b) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < b.size(); ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
    return v;
  };
  switch (type) {
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      uint64_t bits = be64(key);
      bits = (bits & (1ull << 63)) ? bits & ~(1ull << 63) : ~bits;
      double d;
      std::memcpy(&d, &bits, 8);
      return Cell(d);
    }
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson:
      return Cell(std::string(key));
    case ColumnType::kDecimal:
    case ColumnType::kUuid: {
      Int128 v;
      v.hi = static_cast<int64_t>(be64(key) ^ (1ull << 63));
      v.lo = be64(key.substr(std::min<size_t>(8, key.size())));
      return Cell(v);
    }
    default:
      return Cell(static_cast<int64_t>(be64(key) ^ (1ull << 63)));
  }
}

std::string EncodeRow(const RowVersion& row, const std::vector<ColumnType>& columns) {
  std::string out;
  out.reserve(kHeaderSize + columns.size() * 9);
  PutRaw<uint32_t>(out, row.schema_version);
  PutRaw<int64_t>(out, row.seq);
  out.push_back(static_cast<char>(row.deleted ? 1 : 0));
  if (row.deleted) return out;
  const size_t bitmap_at = out.size();
  out.append((columns.size() + 7) / 8, '\0');
  for (size_t i = 0; i < columns.size(); ++i) {
    const Cell& cell = row.cells[i];
    if (IsNull(cell)) {
      out[bitmap_at + i / 8] = static_cast<char>(out[bitmap_at + i / 8] | (1 << (i % 8)));
      continue;
    }
    switch (columns[i]) {
      case ColumnType::kBoolean: out.push_back(std::get<int64_t>(cell) ? 1 : 0); break;
      case ColumnType::kSmallInt: PutRaw<int16_t>(out, static_cast<int16_t>(std::get<int64_t>(cell))); break;
      case ColumnType::kInt:
      case ColumnType::kDate: PutRaw<int32_t>(out, static_cast<int32_t>(std::get<int64_t>(cell))); break;
      case ColumnType::kBigInt:
      case ColumnType::kTimestamp:
      case ColumnType::kTime: PutRaw<int64_t>(out, std::get<int64_t>(cell)); break;
      case ColumnType::kFloat: PutRaw<float>(out, static_cast<float>(std::get<double>(cell))); break;
      case ColumnType::kDouble: PutRaw<double>(out, std::get<double>(cell)); break;
      case ColumnType::kDecimal:
      case ColumnType::kUuid: {
        const Int128& v = std::get<Int128>(cell);
        PutRaw<uint64_t>(out, v.lo);
        PutRaw<int64_t>(out, v.hi);
        break;
      }
      case ColumnType::kText:
      case ColumnType::kBytes:
      case ColumnType::kJson: {
        const std::string& s = std::get<std::string>(cell);
        PutVarint(out, s.size());
        out.append(s);
        break;
      }
    }
  }
  return out;
}

void SetRowSeq(std::string& bytes, int64_t seq) {
  std::string header;
  PutRaw<int64_t>(header, seq);
  bytes.replace(sizeof(uint32_t), header.size(), header);
}

Status DecodeRowHeader(std::string_view bytes, RowVersion& row) {
  if (bytes.size() < kHeaderSize) return Corrupt();
  GetRaw(bytes, row.schema_version);
  GetRaw(bytes, row.seq);
  row.deleted = (bytes[0] & 1) != 0;
  return Status::Ok();
}

Status DecodeRowCells(std::string_view bytes, const std::vector<ColumnType>& columns,
                      RowVersion& row, const std::vector<bool>* wanted) {
  row.cells.clear();
  if (row.deleted) return Status::Ok();
  bytes.remove_prefix(kHeaderSize);
  const size_t bitmap_size = (columns.size() + 7) / 8;
  if (bytes.size() < bitmap_size) return Corrupt();
  const std::string_view bitmap = bytes.substr(0, bitmap_size);
  bytes.remove_prefix(bitmap_size);
  row.cells.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    if (bitmap[i / 8] & (1 << (i % 8))) continue;
    Cell& cell = row.cells[i];
    bool ok = true;
    switch (columns[i]) {
      case ColumnType::kBoolean: {
        uint8_t v = 0;
        ok = GetRaw(bytes, v);
        cell = static_cast<int64_t>(v);
        break;
      }
      case ColumnType::kSmallInt: {
        int16_t v = 0;
        ok = GetRaw(bytes, v);
        cell = static_cast<int64_t>(v);
        break;
      }
      case ColumnType::kInt:
      case ColumnType::kDate: {
        int32_t v = 0;
        ok = GetRaw(bytes, v);
        cell = static_cast<int64_t>(v);
        break;
      }
      case ColumnType::kBigInt:
      case ColumnType::kTimestamp:
      case ColumnType::kTime: {
        int64_t v = 0;
        ok = GetRaw(bytes, v);
        cell = v;
        break;
      }
      case ColumnType::kFloat: {
        float v = 0;
        ok = GetRaw(bytes, v);
        cell = static_cast<double>(v);
        break;
      }
      case ColumnType::kDouble: {
        double v = 0;
        ok = GetRaw(bytes, v);
        cell = v;
        break;
      }
      case ColumnType::kDecimal:
      case ColumnType::kUuid: {
        Int128 v;
        ok = GetRaw(bytes, v.lo) && GetRaw(bytes, v.hi);
        cell = v;
        break;
      }
      case ColumnType::kText:
      case ColumnType::kBytes:
      case ColumnType::kJson: {
        uint64_t size;
        ok = GetVarint(bytes, size) && bytes.size() >= size;
        if (ok) {
          if (wanted == nullptr || (*wanted)[i]) cell = std::string(bytes.substr(0, size));
          bytes.remove_prefix(size);
        }
        break;
      }
    }
    if (!ok) return Corrupt();
  }
  return Status::Ok();
}

}  // namespace kalam::store
