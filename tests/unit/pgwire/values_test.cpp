// Parameters in and cells out in both formats: each binary form read back as the value it
// was written from, on seeded random input, and bad bytes refused.
#include <gtest/gtest.h>

#include <random>

#include "pgwire/protocol.h"
#include "pgwire/values.h"

namespace kalam::pgwire {
namespace {

// The SQL text a parameter binds as.
std::string Bound(const Result<sql::ParamValue>& value) {
  if (!value.ok()) return "error: " + value.status().message();
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) return "NULL";
        if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        if constexpr (std::is_same_v<T, std::string>) return "'" + v + "'";
        if constexpr (std::is_same_v<T, sql::SqlLiteral>) return v.text;
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) return std::to_string(v);
      },
      value.value());
}

TEST(ValuesTest, NumericBinaryRoundTripsThroughItsText) {
  std::mt19937_64 random(42);
  for (int i = 0; i < 2000; ++i) {
    std::string text = random() % 3 == 0 ? "-" : "";
    const int integer_digits = static_cast<int>(random() % 20);
    const int fraction_digits = static_cast<int>(random() % 12);
    for (int d = 0; d < integer_digits; ++d) text += static_cast<char>('0' + random() % 10);
    if (integer_digits == 0) text += '0';
    if (fraction_digits > 0) text += '.';
    for (int d = 0; d < fraction_digits; ++d) text += static_cast<char>('0' + random() % 10);
    std::string binary;
    ASSERT_TRUE(AppendNumericBinary(binary, text)) << text;
    const std::string back = Bound(DecodeParam(oid::kNumeric, kBinaryFormat, binary, 1));
    // The same number: leading zeros and a negative zero aside.
    const auto canonical = [](std::string t) {
      const bool negative = t.starts_with('-');
      if (negative) t.erase(0, 1);
      while (t.size() > 1 && t[0] == '0' && t[1] != '.') t.erase(0, 1);
      if (t.find_first_not_of("0.") == std::string::npos) return t;
      return (negative ? "-" : "") + t;
    };
    EXPECT_EQ(canonical(back), canonical(text));
  }
}

TEST(ValuesTest, BinaryParametersOfEachType) {
  std::string b;
  AppendInt64(b, -5);
  EXPECT_EQ(Bound(DecodeParam(oid::kInt8, kBinaryFormat, b, 1)), "-5");
  b.clear();
  AppendInt64(b, 0);  // 2000-01-01 00:00:00
  EXPECT_EQ(Bound(DecodeParam(oid::kTimestamp, kBinaryFormat, b, 1)),
            "CAST('2000-01-01 00:00:00.000000' AS TIMESTAMP)");
  b.clear();
  AppendInt64(b, -1);  // a microsecond before
  EXPECT_EQ(Bound(DecodeParam(oid::kTimestamp, kBinaryFormat, b, 1)),
            "CAST('1999-12-31 23:59:59.999999' AS TIMESTAMP)");
  b.clear();
  AppendInt32(b, 9497);  // 26 years of 365 days and 7 leap days
  EXPECT_EQ(Bound(DecodeParam(oid::kDate, kBinaryFormat, b, 1)), "CAST('2026-01-01' AS DATE)");
  EXPECT_EQ(Bound(DecodeParam(oid::kBytea, kBinaryFormat, std::string("a'\0\xff", 4), 1)),
            "'a\\x27\\x00\\xFF'::BLOB");
  EXPECT_EQ(Bound(DecodeParam(oid::kInt4, kBinaryFormat, std::string(3, '\0'), 2)),
            "error: Parameter $2: 3 bytes where 4 were expected of type integer");
  EXPECT_EQ(Bound(DecodeParam(oid::kInt4, kTextFormat, std::nullopt, 1)), "NULL");
}

TEST(ValuesTest, TextParametersAreCheckedByTheirDeclaredType) {
  EXPECT_EQ(Bound(DecodeParam(oid::kInt8, kTextFormat, " 42 ", 1)), "42");
  EXPECT_EQ(Bound(DecodeParam(oid::kInt8, kTextFormat, "4 2", 1)).substr(0, 6), "error:");
  EXPECT_EQ(Bound(DecodeParam(oid::kBool, kTextFormat, "on", 1)), "true");
  EXPECT_EQ(Bound(DecodeParam(oid::kNumeric, kTextFormat, "1e400", 1)), "1e400");
  EXPECT_EQ(Bound(DecodeParam(oid::kNumeric, kTextFormat, "1; DROP", 1)).substr(0, 6), "error:");
  EXPECT_EQ(Bound(DecodeParam(oid::kBytea, kTextFormat, "\\x4142", 1)), "'AB'::BLOB");
  EXPECT_EQ(Bound(DecodeParam(oid::kTimestamp, kTextFormat, "x' OR '1", 1)), "CAST('x'' OR ''1' AS TIMESTAMP)");
  EXPECT_EQ(Bound(DecodeParam(oid::kUnspecified, kTextFormat, "it's", 1)), "'it's'");  // quoted when bound
}

TEST(ValuesTest, TimestampsWithAZoneAreReadAsUtc) {
  EXPECT_EQ(Bound(DecodeParam(oid::kTimestampTz, kTextFormat, "2026-01-01 00:30:00+01", 1)),
            "CAST('2025-12-31 23:30:00.000000' AS TIMESTAMP)");
  EXPECT_EQ(Bound(DecodeParam(oid::kTimestampTz, kTextFormat, "2026-01-01T00:00:00.5-05:30", 1)),
            "CAST('2026-01-01 05:30:00.500000' AS TIMESTAMP)");
  EXPECT_EQ(Bound(DecodeParam(oid::kTimestampTz, kTextFormat, "2026-01-01 00:00:00Z", 1)),
            "CAST('2026-01-01 00:00:00.000000' AS TIMESTAMP)");
  // Not that shape: left to the engine's cast, which reports it.
  EXPECT_EQ(Bound(DecodeParam(oid::kTimestampTz, kTextFormat, "tomorrow", 1)), "CAST('tomorrow' AS TIMESTAMP)");
}

TEST(ValuesTest, CellsInBinary) {
  std::string out;
  ASSERT_TRUE(AppendTimestampBinary(out, "2000-01-01T00:00:01.5Z"));
  std::string want;
  AppendInt64(want, 1'500'000);
  EXPECT_EQ(out, want);
  out.clear();
  EXPECT_FALSE(AppendTimestampBinary(out, "2000-13-01T00:00:00Z"));
  EXPECT_FALSE(AppendUuidBinary(out, "not-a-uuid"));
  out.clear();
  ASSERT_TRUE(AppendUuidBinary(out, "12345678-1234-5678-1234-567812345678"));
  EXPECT_EQ(out.size(), 16u);
}

}  // namespace
}  // namespace kalam::pgwire
