#include "sql/params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace kalam::sql {
namespace {

// The bound statement; an empty string (and a test failure) when binding fails.
std::string Bind(std::string_view statement, const std::vector<ParamValue>& params) {
  Result<std::string> bound = BindParams(statement, params);
  if (!bound.ok()) {
    ADD_FAILURE() << statement << ": " << bound.status().message();
    return "";
  }
  return *bound;
}

// The error message; a test failure when binding succeeds or fails with another code.
std::string BindError(std::string_view statement, const std::vector<ParamValue>& params) {
  Result<std::string> bound = BindParams(statement, params);
  if (bound.ok()) {
    ADD_FAILURE() << statement << " bound to " << *bound;
    return "";
  }
  EXPECT_EQ(bound.status().code(), Code::kInvalidParameter) << bound.status().message();
  return bound.status().message();
}

TEST(BindParams, ReplacesEachParameterByItsLiteral) {
  EXPECT_EQ(Bind("SELECT * FROM t WHERE a = $1 AND b = $2", {int64_t{5}, std::string("x")}),
            "SELECT * FROM t WHERE a = 5 AND b = 'x'");
  EXPECT_EQ(Bind("SELECT $1 + $1", {int64_t{3}}), "SELECT 3 + 3");
  EXPECT_EQ(Bind("SELECT $2, $1", {int64_t{1}, int64_t{2}}), "SELECT 2, 1");
}

TEST(BindParams, StatementWithoutParametersIsUnchanged) {
  EXPECT_EQ(Bind("SELECT 'a;b', $$c$$", {}), "SELECT 'a;b', $$c$$");
}

TEST(BindParams, LiteralForms) {
  EXPECT_EQ(Bind("$1", {std::monostate{}}), "NULL");
  EXPECT_EQ(Bind("$1, $2", {true, false}), "TRUE, FALSE");
  EXPECT_EQ(Bind("$1", {std::numeric_limits<uint64_t>::max()}), "18446744073709551615");
  EXPECT_EQ(Bind("$1", {std::numeric_limits<int64_t>::min()}), "(-9223372036854775808)");
  EXPECT_EQ(Bind("$1", {std::string("it's")}), "'it''s'");
  EXPECT_EQ(Bind("$1", {std::string("")}), "''");
}

TEST(BindParams, DoublesAreTypedDoubleAndRoundTrip) {
  // An exponent makes DuckDB read a DOUBLE rather than a DECIMAL.
  EXPECT_EQ(Bind("$1", {0.5}), "0.5e0");
  EXPECT_EQ(Bind("$1", {2.0}), "2e0");
  EXPECT_EQ(Bind("$1", {1e300}), "1e+300");
  EXPECT_EQ(Bind("$1", {-2.5}), "(-2.5e0)");
  for (const double d : {0.1 + 0.2, 1.0 / 3.0, 5e-324, std::numeric_limits<double>::max()}) {
    const std::string literal = Bind("$1", {d});
    EXPECT_EQ(std::strtod(literal.c_str(), nullptr), d) << literal;
  }
}

TEST(BindParams, NegativeNumbersCannotStartAComment) {
  EXPECT_EQ(Bind("SELECT 1-$1", {int64_t{-5}}), "SELECT 1-(-5)");
  EXPECT_EQ(Bind("SELECT 1-$1", {-0.5}), "SELECT 1-(-0.5e0)");
}

TEST(BindParams, StringValuesAreNotScannedAgain) {
  EXPECT_EQ(Bind("SELECT $1, $2", {std::string("$2'; DROP TABLE t; --"), int64_t{7}}),
            "SELECT '$2''; DROP TABLE t; --', 7");
}

TEST(BindParams, ParametersInsideQuotesAndCommentsAreLeftAlone) {
  EXPECT_EQ(Bind(R"(SELECT '$1', "$1", $$ $1 $$, $t$ $1 $t$, E'\'$1' -- $1
/* $1 /* $1 */ $1 */, $1)",
                 {int64_t{9}}),
            R"(SELECT '$1', "$1", $$ $1 $$, $t$ $1 $t$, E'\'$1' -- $1
/* $1 /* $1 */ $1 */, 9)");
}

TEST(BindParams, DollarInIdentifierIsNotAParameter) {
  EXPECT_EQ(Bind("SELECT a$1, $1", {int64_t{9}}), "SELECT a$1, 9");
}

TEST(BindParams, MultiDigitParameters) {
  std::vector<ParamValue> params;
  for (int64_t i = 1; i <= 11; ++i) params.emplace_back(i * 100);
  EXPECT_EQ(Bind("SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11", params),
            "SELECT 100,200,300,400,500,600,700,800,900,1000,1100");
}

TEST(BindParams, ParameterWithoutValueIsRefused) {
  EXPECT_EQ(BindError("SELECT $3", {int64_t{1}, int64_t{2}}),
            "Parameter $3 has no value (2 given)");
  EXPECT_EQ(BindError("SELECT $1", {}), "Parameter $1 has no value (0 given)");
  EXPECT_EQ(BindError("SELECT $0, $1", {int64_t{1}}), "Parameter $0 has no value (1 given)");
  EXPECT_EQ(BindError("SELECT $99999999999999999999999", {int64_t{1}}),
            "Parameter $99999999999999999999999 has no value (1 given)");
}

TEST(BindParams, UnusedParameterIsRefused) {
  EXPECT_EQ(BindError("SELECT $1", {int64_t{1}, int64_t{2}}), "Parameter 2 is never used");
  EXPECT_EQ(BindError("SELECT '$1'", {int64_t{1}}), "Parameter 1 is never used");
  // Inside an unterminated string: not a parameter either.
  EXPECT_EQ(BindError("SELECT 'abc $1", {int64_t{1}}), "Parameter 1 is never used");
}

TEST(BindParams, NonFiniteDoublesAreRefused) {
  EXPECT_EQ(BindError("SELECT $1, $2", {int64_t{1}, std::nan("")}),
            "Parameter $2 is not a finite number");
  EXPECT_EQ(BindError("SELECT $1", {std::numeric_limits<double>::infinity()}),
            "Parameter $1 is not a finite number");
}

}  // namespace
}  // namespace kalam::sql
