// Row keys must sort as the engine orders their primary-key values: the hot store's range
// scans, point reads and duplicate checks all work on the encoded bytes, while queries
// compare the values in DuckDB. The order asserted here is DuckDB's:
//   - integers (and BOOLEAN, DATE, TIME, TIMESTAMP): signed;
//   - FLOAT/DOUBLE: -inf < ... < -0.0 == +0.0 < ... < +inf < NaN, every NaN (whatever its
//     sign or payload) equal to every other;
//   - DECIMAL/UUID: signed 128-bit (the engine keeps a UUID with its top bit flipped, so
//     this is also the UUID's text order);
//   - TEXT/BYTES/JSON: bytewise, unsigned, a prefix before its extensions.
// Values the engine holds equal must encode to the same key: they are the same row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "store/row_codec.h"

namespace kalam::store {
namespace {

constexpr int kPairs = 20000;
constexpr uint64_t kTable = 42;
const std::string kScope = "u_123";

int Sign(int v) { return (v > 0) - (v < 0); }

// RocksDB's default comparator: memcmp, then length.
int CompareBytes(const std::string& a, const std::string& b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return Sign(c);
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

std::string KeyOf(ColumnType type, const Cell& cell) {
  std::string key = ScopePrefix(kTable, kScope);
  AppendKeyCell(key, type, cell);
  return key;
}

int CompareInts(int64_t a, int64_t b) { return a < b ? -1 : a > b ? 1 : 0; }

int CompareDoubles(double a, double b) {
  const bool a_nan = std::isnan(a), b_nan = std::isnan(b);
  if (a_nan || b_nan) return a_nan == b_nan ? 0 : a_nan ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;  // -0.0 and +0.0 compare equal here
}

int CompareInt128(const Int128& a, const Int128& b) {
  if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
  return a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0;
}

int CompareText(const std::string& a, const std::string& b) { return CompareBytes(a, b); }

int CompareCells(ColumnType type, const Cell& a, const Cell& b) {
  switch (type) {
    case ColumnType::kFloat:
    case ColumnType::kDouble: return CompareDoubles(std::get<double>(a), std::get<double>(b));
    case ColumnType::kDecimal:
    case ColumnType::kUuid: return CompareInt128(std::get<Int128>(a), std::get<Int128>(b));
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson: return CompareText(std::get<std::string>(a), std::get<std::string>(b));
    default: return CompareInts(std::get<int64_t>(a), std::get<int64_t>(b));
  }
}

// Random values of a column type, biased towards the values where encodings go wrong:
// extremes, zero, signs, NaN, and (for text) 0x00, 0xFF and shared prefixes.
class ValueSource {
 public:
  explicit ValueSource(uint32_t seed) : rng_(seed) {}

  Cell Next(ColumnType type) {
    switch (type) {
      case ColumnType::kBoolean: return Cell(static_cast<int64_t>(rng_() & 1));
      case ColumnType::kSmallInt: return Cell(Integer(std::numeric_limits<int16_t>::min(),
                                                      std::numeric_limits<int16_t>::max()));
      case ColumnType::kInt:
      case ColumnType::kDate: return Cell(Integer(std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
      case ColumnType::kBigInt:
      case ColumnType::kTimestamp:
      case ColumnType::kTime: return Cell(Integer(std::numeric_limits<int64_t>::min(),
                                                  std::numeric_limits<int64_t>::max()));
      case ColumnType::kFloat: return Cell(static_cast<double>(Float()));
      case ColumnType::kDouble: return Cell(Double());
      case ColumnType::kDecimal:
      case ColumnType::kUuid: return Cell(Huge());
      case ColumnType::kText:
      case ColumnType::kBytes:
      case ColumnType::kJson: return Cell(Bytes());
    }
    return Cell();
  }

 private:
  int64_t Integer(int64_t min, int64_t max) {
    switch (rng_() % 4) {
      case 0: {
        const int64_t edges[] = {min, min + 1, -1, 0, 1, max - 1, max};
        return edges[rng_() % std::size(edges)];
      }
      case 1: return std::clamp<int64_t>(static_cast<int64_t>(rng_() % 7) - 3, min, max);
      default: return std::uniform_int_distribution<int64_t>(min, max)(rng_);
    }
  }

  double Double() {
    using L = std::numeric_limits<double>;
    switch (rng_() % 4) {
      case 0: {
        const double specials[] = {L::quiet_NaN(), -L::quiet_NaN(), L::infinity(), -L::infinity(),
                                   0.0, -0.0, L::denorm_min(), -L::denorm_min(), L::min(),
                                   -L::min(), L::max(), L::lowest(), 1.0, -1.0};
        return specials[rng_() % std::size(specials)];
      }
      case 1: {  // any bit pattern: NaNs with payloads and either sign, subnormals, ...
        const uint64_t bits = rng_();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
      }
      default: return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
    }
  }

  float Float() {
    using L = std::numeric_limits<float>;
    switch (rng_() % 4) {
      case 0: {
        const float specials[] = {L::quiet_NaN(), -L::quiet_NaN(), L::infinity(), -L::infinity(),
                                  0.0f, -0.0f, L::denorm_min(), -L::denorm_min(), L::max(),
                                  L::lowest(), 1.0f, -1.0f};
        return specials[rng_() % std::size(specials)];
      }
      case 1: {
        const auto bits = static_cast<uint32_t>(rng_());
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return f;
      }
      default: return std::uniform_real_distribution<float>(-1e4f, 1e4f)(rng_);
    }
  }

  Int128 Huge() {
    const int64_t hi_edges[] = {std::numeric_limits<int64_t>::min(), -1, 0, 1,
                                std::numeric_limits<int64_t>::max()};
    const uint64_t lo_edges[] = {0, 1, uint64_t{1} << 63, (uint64_t{1} << 63) - 1,
                                 std::numeric_limits<uint64_t>::max()};
    Int128 v;
    v.hi = rng_() % 2 ? hi_edges[rng_() % std::size(hi_edges)] : static_cast<int64_t>(rng_());
    v.lo = rng_() % 2 ? lo_edges[rng_() % std::size(lo_edges)] : rng_();
    return v;
  }

  std::string Bytes() {
    // A small alphabet makes equal values and shared prefixes common.
    const char alphabet[] = {'\x00', '\x01', 'a', 'b', '\x7f', '\x80', '\xfe', '\xff'};
    std::string s(rng_() % 9, '\0');
    for (char& c : s) c = rng_() % 4 ? alphabet[rng_() % std::size(alphabet)] : static_cast<char>(rng_());
    return s;
  }

  std::mt19937_64 rng_;
};

std::string Describe(ColumnType type, const Cell& cell) {
  switch (type) {
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      uint64_t bits;
      const double d = std::get<double>(cell);
      std::memcpy(&bits, &d, sizeof bits);
      return std::to_string(d) + " (bits " + std::to_string(bits) + ")";
    }
    case ColumnType::kDecimal:
    case ColumnType::kUuid:
      return "{hi " + std::to_string(std::get<Int128>(cell).hi) + ", lo " +
             std::to_string(std::get<Int128>(cell).lo) + "}";
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson: {
      std::string hex;
      for (unsigned char c : std::get<std::string>(cell)) hex += std::to_string(c) + " ";
      return "bytes [" + hex + "]";
    }
    default: return std::to_string(std::get<int64_t>(cell));
  }
}

const ColumnType kAllTypes[] = {
    ColumnType::kBoolean, ColumnType::kSmallInt, ColumnType::kInt,     ColumnType::kBigInt,
    ColumnType::kFloat,   ColumnType::kDouble,   ColumnType::kDecimal, ColumnType::kText,
    ColumnType::kBytes,   ColumnType::kJson,     ColumnType::kTimestamp, ColumnType::kDate,
    ColumnType::kTime,    ColumnType::kUuid};

class KeyOrderTest : public testing::TestWithParam<ColumnType> {};

TEST_P(KeyOrderTest, EncodedKeysSortAsTheEngineOrdersValues) {
  const ColumnType type = GetParam();
  ValueSource source(static_cast<uint32_t>(type) * 7919 + 1);
  for (int i = 0; i < kPairs; ++i) {
    const Cell a = source.Next(type);
    const Cell b = source.Next(type);
    const int by_value = CompareCells(type, a, b);
    const int by_key = CompareBytes(KeyOf(type, a), KeyOf(type, b));
    ASSERT_EQ(by_key, by_value) << "pair " << i << ": " << Describe(type, a) << " vs "
                                << Describe(type, b);
  }
}

TEST_P(KeyOrderTest, KeyCellDecodesToAnEqualValue) {
  const ColumnType type = GetParam();
  ValueSource source(static_cast<uint32_t>(type) * 104729 + 3);
  for (int i = 0; i < kPairs; ++i) {
    const Cell value = source.Next(type);
    const Cell decoded = DecodeKeyCell(KeyOf(type, value), type);
    ASSERT_EQ(CompareCells(type, decoded, value), 0) << Describe(type, value);
    // The same key again: decoding loses nothing the order depends on.
    ASSERT_EQ(KeyOf(type, decoded), KeyOf(type, value)) << Describe(type, value);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKeyType, KeyOrderTest, testing::ValuesIn(kAllTypes),
                         [](const testing::TestParamInfo<ColumnType>& info) {
                           return std::string(ColumnTypeSqlName(info.param));
                         });

TEST(KeyEncodingTest, ZerosAndNaNsAreOneKeyEach) {
  using L = std::numeric_limits<double>;
  EXPECT_EQ(KeyOf(ColumnType::kDouble, Cell(-0.0)), KeyOf(ColumnType::kDouble, Cell(0.0)));
  EXPECT_EQ(KeyOf(ColumnType::kDouble, Cell(-L::quiet_NaN())),
            KeyOf(ColumnType::kDouble, Cell(L::quiet_NaN())));
  EXPECT_LT(KeyOf(ColumnType::kDouble, Cell(L::infinity())),
            KeyOf(ColumnType::kDouble, Cell(-L::quiet_NaN())));
  EXPECT_LT(KeyOf(ColumnType::kDouble, Cell(-L::infinity())),
            KeyOf(ColumnType::kDouble, Cell(-0.0)));
}

// A table's rows are one contiguous range, and within it each scope's: whatever the key
// bytes (0x00, 0xFF), a key never sorts outside its scope's prefix range.
TEST(KeyLayoutTest, ScopesAndTablesDoNotInterleave) {
  ValueSource source(99);
  const std::vector<std::pair<uint64_t, std::string>> scopes = {
      {1, ""}, {1, "a"}, {1, "ab"}, {1, "b"}, {2, ""}, {2, "a"}, {255, "z"}, {256, ""}};
  for (int i = 0; i < kPairs; ++i) {
    const auto& [table_a, scope_a] = scopes[i % scopes.size()];
    const auto& [table_b, scope_b] = scopes[(i * 7 + 3) % scopes.size()];
    std::string key_a = ScopePrefix(table_a, scope_a);
    std::string key_b = ScopePrefix(table_b, scope_b);
    AppendKeyCell(key_a, ColumnType::kText, source.Next(ColumnType::kText));
    AppendKeyCell(key_b, ColumnType::kText, source.Next(ColumnType::kText));

    ASSERT_TRUE(key_a.starts_with(TablePrefix(table_a)));
    ASSERT_EQ(ScopeOfKey(key_a), scope_a);
    const int prefixes = CompareBytes(ScopePrefix(table_a, scope_a), ScopePrefix(table_b, scope_b));
    if (prefixes != 0) {
      ASSERT_EQ(CompareBytes(key_a, key_b), prefixes) << i;
    }
    if (table_a != table_b) {
      ASSERT_EQ(CompareBytes(key_a, key_b), table_a < table_b ? -1 : 1) << i;
    }
  }
}

TEST(KeyLayoutTest, MarkersLiveOutsideEveryTablesRows) {
  std::string key = ScopePrefix(7, "user");
  AppendKeyCell(key, ColumnType::kBigInt, Cell(int64_t{5}));
  const std::string marker = MarkerKey(key);
  EXPECT_TRUE(marker.starts_with(MarkerTablePrefix(7)));
  EXPECT_FALSE(marker.starts_with(TablePrefix(7)));
  EXPECT_EQ(marker.substr(8), key.substr(8));
  // Table numbers are far below 2^63: every marker sorts after every row.
  EXPECT_LT(TablePrefix(std::numeric_limits<uint32_t>::max()), MarkerTablePrefix(0));
  EXPECT_EQ(DecodeKeyCell(marker, ColumnType::kBigInt), Cell(int64_t{5}));
}

}  // namespace
}  // namespace kalam::store
