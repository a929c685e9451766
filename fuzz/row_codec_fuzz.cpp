// The hot store's row values decoded from arbitrary bytes, under a schema the input's
// first bytes choose: a byte of column count, then one byte per column type. A decode
// that succeeds encodes back to bytes that decode the same (booleans read as 0 or 1), and
// encoding is then a fixed point; skipping columns changes nothing else; each cell's key
// decodes back to it, and keys sort as their cells do.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "store/row_codec.h"

namespace {

using kalam::ColumnType;
using namespace kalam::store;

constexpr int kTypes = static_cast<int>(ColumnType::kUuid) + 1;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

bool IsBoolean(ColumnType type) { return type == ColumnType::kBoolean; }

// Cells equal bit for bit (NaNs included); a boolean compares by truth.
bool SameCell(const Cell& a, const Cell& b, ColumnType type) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    return std::memcmp(x, &y, sizeof y) == 0;
  }
  if (IsBoolean(type) && std::holds_alternative<int64_t>(a)) {
    return (std::get<int64_t>(a) != 0) == (std::get<int64_t>(b) != 0);
  }
  return a == b;
}

// The order the engine gives two non-null cells of one type: -1, 0 or 1.
int Order(const Cell& a, const Cell& b) {
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    if (std::isnan(*x) || std::isnan(y)) return std::isnan(*x) - std::isnan(y);  // NaN above all
    return (*x > y) - (*x < y);
  }
  if (const auto* x = std::get_if<std::string>(&a)) {
    const int c = x->compare(std::get<std::string>(b));
    return (c > 0) - (c < 0);
  }
  if (const auto* x = std::get_if<Int128>(&a)) {
    const Int128& y = std::get<Int128>(b);
    if (x->hi != y.hi) return x->hi < y.hi ? -1 : 1;
    return (x->lo > y.lo) - (x->lo < y.lo);
  }
  const int64_t x = std::get<int64_t>(a), y = std::get<int64_t>(b);
  return (x > y) - (x < y);
}

// The cell as a key holds it (the float order's single zero and single NaN).
Cell KeyForm(const Cell& cell) {
  if (const auto* d = std::get_if<double>(&cell)) {
    if (*d == 0) return Cell(0.0);
    if (std::isnan(*d)) return Cell(std::nan(""));
  }
  return cell;
}

void CheckKeys(const RowVersion& row, const std::vector<ColumnType>& types) {
  std::vector<std::string> keys(types.size());
  for (size_t i = 0; i < types.size(); ++i) {
    if (IsNull(row.cells[i])) continue;
    keys[i] = ScopePrefix(7, "user-1");
    AppendKeyCell(keys[i], types[i], row.cells[i]);
    Check(ScopeOfKey(keys[i]) == "user-1");
    Check(SameCell(DecodeKeyCell(keys[i], types[i]), KeyForm(row.cells[i]), types[i]));
  }
  for (size_t i = 0; i < types.size(); ++i) {
    for (size_t j = i + 1; j < types.size(); ++j) {
      if (types[i] != types[j] || IsNull(row.cells[i]) || IsNull(row.cells[j])) continue;
      const int by_key = (keys[i] > keys[j]) - (keys[i] < keys[j]);
      Check(by_key == Order(row.cells[i], row.cells[j]));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t columns = data[0] % 24;
  if (size < 1 + columns) return 0;
  std::vector<ColumnType> types;
  for (size_t i = 0; i < columns; ++i) types.push_back(static_cast<ColumnType>(data[1 + i] % kTypes));
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1 + columns), size - 1 - columns);

  RowVersion row;
  if (!DecodeRowHeader(bytes, row).ok()) return 0;
  const kalam::Status decoded = DecodeRowCells(bytes, types, row);
  // Skipping text cells leaves them NULL and changes nothing else.
  std::vector<bool> wanted(types.size());
  for (size_t i = 0; i < types.size(); ++i) wanted[i] = (data[1 + i] & 0x80) != 0;
  RowVersion partial;
  Check(DecodeRowHeader(bytes, partial).ok());
  Check(DecodeRowCells(bytes, types, partial, &wanted).ok() == decoded.ok());
  if (!decoded.ok()) {
    Check(decoded.code() != kalam::Code::kOk && !decoded.message().empty());
    return 0;
  }
  Check(row.cells.size() == (row.deleted ? 0 : types.size()) && partial.cells.size() == row.cells.size());
  for (size_t i = 0; i < partial.cells.size(); ++i) {
    const bool skipped = !wanted[i] && std::holds_alternative<std::string>(row.cells[i]);
    Check(skipped ? IsNull(partial.cells[i]) : SameCell(partial.cells[i], row.cells[i], types[i]));
  }

  const std::string encoded = EncodeRow(row, types);
  Check(encoded.size() <= bytes.size());  // only a longer varint or trailing bytes are dropped
  RowVersion again;
  Check(DecodeRowHeader(encoded, again).ok() && DecodeRowCells(encoded, types, again).ok());
  Check(again.schema_version == row.schema_version && again.seq == row.seq && again.deleted == row.deleted);
  Check(again.cells.size() == row.cells.size());
  for (size_t i = 0; i < row.cells.size(); ++i) Check(SameCell(again.cells[i], row.cells[i], types[i]));
  Check(EncodeRow(again, types) == encoded);

  std::string reseq = encoded;
  SetRowSeq(reseq, ~row.seq);
  RowVersion header;
  Check(DecodeRowHeader(reseq, header).ok() && header.seq == ~row.seq && header.deleted == row.deleted);
  if (!row.deleted) CheckKeys(row, types);
  return 0;
}
