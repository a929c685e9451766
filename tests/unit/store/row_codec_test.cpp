// Row values: what EncodeRow writes, DecodeRowHeader and DecodeRowCells read back, for
// every column type, NULLs, tombstones and rows of several schema versions side by side.
// (Mapping a stored row onto today's columns is query::DecodeCurrentRow, not tested here.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "store/row_codec.h"

namespace kalam::store {
namespace {

const std::vector<ColumnType> kEveryType = {
    ColumnType::kBoolean, ColumnType::kSmallInt, ColumnType::kInt,       ColumnType::kBigInt,
    ColumnType::kFloat,   ColumnType::kDouble,   ColumnType::kDecimal,   ColumnType::kText,
    ColumnType::kBytes,   ColumnType::kJson,     ColumnType::kTimestamp, ColumnType::kDate,
    ColumnType::kTime,    ColumnType::kUuid};

// A random cell the column type can hold (FLOAT: a value a float holds exactly), NULL at
// times.
Cell RandomCell(std::mt19937_64& rng, ColumnType type) {
  if (rng() % 5 == 0) return Cell();
  auto pick = [&](int64_t min, int64_t max) {
    const int64_t edges[] = {min, max, 0, -1, 1};
    return rng() % 3 == 0 ? std::clamp(edges[rng() % 5], min, max)
                          : std::uniform_int_distribution<int64_t>(min, max)(rng);
  };
  switch (type) {
    case ColumnType::kBoolean: return Cell(static_cast<int64_t>(rng() & 1));
    case ColumnType::kSmallInt: return Cell(pick(INT16_MIN, INT16_MAX));
    case ColumnType::kInt:
    case ColumnType::kDate: return Cell(pick(INT32_MIN, INT32_MAX));
    case ColumnType::kBigInt:
    case ColumnType::kTimestamp:
    case ColumnType::kTime: return Cell(pick(INT64_MIN, INT64_MAX));
    case ColumnType::kFloat: {
      const auto bits = static_cast<uint32_t>(rng());
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return Cell(static_cast<double>(f));
    }
    case ColumnType::kDouble: {
      const uint64_t bits = rng();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return Cell(d);
    }
    case ColumnType::kDecimal:
    case ColumnType::kUuid: return Cell(Int128{rng(), static_cast<int64_t>(rng())});
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson: {
      // Lengths around the varint's 1- and 2-byte boundaries.
      const size_t lengths[] = {0, 1, 127, 128, 300, 16383, 16384};
      std::string s(rng() % 2 ? lengths[rng() % 7] : rng() % 40, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      return Cell(std::move(s));
    }
  }
  return Cell();
}

// Equal cells, doubles compared bit for bit: a row value keeps -0.0 and NaN payloads.
void ExpectSameCell(const Cell& decoded, const Cell& written, size_t column) {
  ASSERT_EQ(decoded.index(), written.index()) << "column " << column;
  if (const double* w = std::get_if<double>(&written)) {
    const double d = std::get<double>(decoded);
    EXPECT_EQ(std::memcmp(&d, w, sizeof d), 0) << "column " << column << ": " << d << " vs " << *w;
  } else {
    EXPECT_TRUE(decoded == written) << "column " << column;
  }
}

RowVersion Decode(const std::string& bytes, const std::vector<ColumnType>& types) {
  RowVersion row;
  EXPECT_TRUE(DecodeRowHeader(bytes, row).ok());
  EXPECT_TRUE(DecodeRowCells(bytes, types, row).ok());
  return row;
}

TEST(RowCodecTest, EveryColumnTypeRoundTrips) {
  std::mt19937_64 rng(1234);
  // Every type, twice over and shuffled, so the null bitmap spans several bytes.
  for (int i = 0; i < 2000; ++i) {
    std::vector<ColumnType> types = kEveryType;
    types.insert(types.end(), kEveryType.begin(), kEveryType.end());
    std::shuffle(types.begin(), types.end(), rng);
    types.resize(1 + rng() % types.size());

    RowVersion row;
    row.schema_version = static_cast<uint32_t>(rng());
    row.seq = static_cast<int64_t>(rng());
    for (ColumnType t : types) row.cells.push_back(RandomCell(rng, t));

    const RowVersion back = Decode(EncodeRow(row, types), types);
    ASSERT_EQ(back.schema_version, row.schema_version);
    ASSERT_EQ(back.seq, row.seq);
    ASSERT_FALSE(back.deleted);
    ASSERT_EQ(back.cells.size(), types.size());
    for (size_t c = 0; c < types.size(); ++c) ExpectSameCell(back.cells[c], row.cells[c], c);
  }
}

TEST(RowCodecTest, AllNullAndNoColumns) {
  const std::vector<ColumnType> types(17, ColumnType::kText);
  RowVersion row;
  row.schema_version = 3;
  row.seq = -1;
  row.cells.assign(types.size(), Cell());
  const RowVersion back = Decode(EncodeRow(row, types), types);
  ASSERT_EQ(back.cells.size(), types.size());
  for (const Cell& c : back.cells) EXPECT_TRUE(IsNull(c));

  RowVersion empty;
  empty.schema_version = 1;
  EXPECT_TRUE(Decode(EncodeRow(empty, {}), {}).cells.empty());
}

TEST(RowCodecTest, TombstoneIsAHeaderWithoutCells) {
  const std::vector<ColumnType> types = {ColumnType::kBigInt, ColumnType::kText};
  RowVersion row;
  row.schema_version = 2;
  row.seq = std::numeric_limits<int64_t>::max();
  row.deleted = true;
  const std::string bytes = EncodeRow(row, types);

  RowVersion header;
  ASSERT_TRUE(DecodeRowHeader(bytes, header).ok());
  EXPECT_TRUE(header.deleted);
  EXPECT_EQ(header.seq, row.seq);
  EXPECT_EQ(header.schema_version, 2u);
  header.cells.resize(3);  // left over from an earlier row
  ASSERT_TRUE(DecodeRowCells(bytes, types, header).ok());
  EXPECT_TRUE(header.cells.empty());

  // A live row of the same version is longer: the tombstone carries no bitmap or cells.
  row.deleted = false;
  row.cells = {Cell(), Cell()};
  EXPECT_LT(bytes.size(), EncodeRow(row, types).size());
}

TEST(RowCodecTest, UnwantedCellsAreSkippedAndTheRestStillRead) {
  const std::vector<ColumnType> types = {ColumnType::kText, ColumnType::kBigInt, ColumnType::kBytes,
                                         ColumnType::kDouble, ColumnType::kJson};
  RowVersion row;
  row.schema_version = 1;
  row.seq = 10;
  row.cells = {Cell(std::string(200, 'x')), Cell(int64_t{-7}), Cell(std::string("\0\xff", 2)),
               Cell(2.5), Cell(std::string("{}"))};
  const std::string bytes = EncodeRow(row, types);
  const std::vector<bool> wanted = {false, true, false, true, true};

  RowVersion back;
  ASSERT_TRUE(DecodeRowHeader(bytes, back).ok());
  ASSERT_TRUE(DecodeRowCells(bytes, types, back, &wanted).ok());
  ASSERT_EQ(back.cells.size(), types.size());
  EXPECT_TRUE(IsNull(back.cells[0]));
  EXPECT_EQ(back.cells[1], Cell(int64_t{-7}));
  EXPECT_TRUE(IsNull(back.cells[2]));
  EXPECT_EQ(back.cells[3], Cell(2.5));
  EXPECT_EQ(back.cells[4], Cell(std::string("{}")));
}

// A cut-off value is reported, never read past its end: every strict prefix of a row
// fails in the header or in the cells (the encoding has nothing after its last cell).
TEST(RowCodecTest, TruncatedRowsAreErrors) {
  std::mt19937_64 rng(77);
  for (int i = 0; i < 200; ++i) {
    RowVersion row;
    row.schema_version = 1;
    row.seq = i;
    for (ColumnType t : kEveryType) row.cells.push_back(RandomCell(rng, t));
    row.cells.back() = Cell(Int128{1, 2});  // a non-NULL last cell: every prefix cuts a value
    const std::string bytes = EncodeRow(row, kEveryType);
    for (size_t n = 0; n < bytes.size(); ++n) {
      const std::string cut = bytes.substr(0, n);
      RowVersion back;
      const bool header = DecodeRowHeader(cut, back).ok();
      const bool cells = header && DecodeRowCells(cut, kEveryType, back).ok();
      ASSERT_FALSE(cells) << "row " << i << " cut to " << n << " of " << bytes.size() << " bytes";
      if (!header) {
        ASSERT_EQ(DecodeRowHeader(cut, back).code(), Code::kInternalError);
      }
    }
  }
}

// Rows stay in the store under the version they were written with; the header names it,
// and the cells decode with that version's types however the table changed since.
TEST(RowCodecTest, RowsOfOlderSchemaVersionsDecodeUnderTheirOwnTypes) {
  const std::vector<std::vector<ColumnType>> versions = {
      {ColumnType::kBigInt, ColumnType::kText},                                // v1
      {ColumnType::kBigInt, ColumnType::kText, ColumnType::kDouble},           // v2: added
      {ColumnType::kBigInt, ColumnType::kDouble},                              // v3: dropped
      {ColumnType::kBigInt, ColumnType::kDouble, ColumnType::kInt, ColumnType::kBytes}};  // v4
  std::mt19937_64 rng(5);
  std::vector<RowVersion> written;
  std::vector<std::string> stored;
  for (int i = 0; i < 400; ++i) {
    RowVersion row;
    row.schema_version = static_cast<uint32_t>(1 + rng() % versions.size());
    row.seq = i;
    for (ColumnType t : versions[row.schema_version - 1]) row.cells.push_back(RandomCell(rng, t));
    stored.push_back(EncodeRow(row, versions[row.schema_version - 1]));
    written.push_back(std::move(row));
  }
  for (size_t i = 0; i < stored.size(); ++i) {
    RowVersion back;
    ASSERT_TRUE(DecodeRowHeader(stored[i], back).ok());
    ASSERT_EQ(back.schema_version, written[i].schema_version);
    const auto& types = versions[back.schema_version - 1];
    ASSERT_TRUE(DecodeRowCells(stored[i], types, back).ok());
    ASSERT_EQ(back.cells.size(), types.size());
    for (size_t c = 0; c < types.size(); ++c) ExpectSameCell(back.cells[c], written[i].cells[c], c);
  }
}

}  // namespace
}  // namespace kalam::store
