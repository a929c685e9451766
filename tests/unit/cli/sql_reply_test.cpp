#include "cli/sql_reply.h"

#include <gtest/gtest.h>

namespace kalam::cli {
namespace {

TEST(SqlReply, DecodesRowsAndMessages) {
  auto reply = ParseSqlReply(200, R"json({"status":"success","results":[
      {"schema":[{"name":"n","data_type":"BigInt","index":0}],"rows":[[-5],[18446744073709551615]],
       "row_count":2,"as_user":"root"},
      {"row_count":3,"message":"Inserted 3 row(s)","as_user":"root"}],"took":1.84})json");
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->error);
  EXPECT_DOUBLE_EQ(reply->took_ms, 1.84);
  ASSERT_EQ(reply->results.size(), 2u);
  const StatementResult& rows = reply->results[0];
  EXPECT_TRUE(rows.has_rows);
  ASSERT_EQ(rows.columns.size(), 1u);
  EXPECT_EQ(rows.columns[0].data_type, "BigInt");
  EXPECT_EQ(rows.rows[0][0].text, "-5");
  EXPECT_EQ(rows.rows[1][0].text, "18446744073709551615");
  EXPECT_EQ(rows.rows[1][0].kind, Value::Kind::kNumber);
  EXPECT_FALSE(reply->results[1].has_rows);
  EXPECT_EQ(reply->results[1].row_count, 3);
  EXPECT_EQ(reply->results[1].message, "Inserted 3 row(s)");
}

TEST(SqlReply, DecodesTheError) {
  auto reply =
      ParseSqlReply(404, R"json({"status":"error","results":[{"row_count":1,"message":"ok"}],
      "took":0.1,"error":{"code":"NOT_FOUND","message":"Table 'app.x' does not exist",
      "statement_index":2}})json");
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->error);
  EXPECT_EQ(reply->error->code, "NOT_FOUND");
  EXPECT_EQ(reply->error->message, "Table 'app.x' does not exist");
  EXPECT_EQ(reply->error->statement_index, 2);
  EXPECT_EQ(reply->results.size(), 1u);
}

TEST(SqlReply, AnswerOutsideTheContractIsAnError) {
  auto reply = ParseSqlReply(502, "<html>Bad Gateway</html>");
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("HTTP 502"), std::string::npos);
  // JSON without an error object, but not a success either.
  auto odd = ParseSqlReply(500, R"json({"status":"error"})json");
  ASSERT_TRUE(odd.ok());
  ASSERT_TRUE(odd->error);
  EXPECT_EQ(odd->error->code, "HTTP_500");
}

TEST(SqlReply, ShortRowsReadAsNull) {
  auto reply = ParseSqlReply(200, R"json({"status":"success","results":[{"schema":[
      {"name":"a","data_type":"Int"},{"name":"b","data_type":"Int"}],"rows":[[1]],"row_count":1}]})json");
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->results[0].rows[0].size(), 2u);
  EXPECT_TRUE(reply->results[0].rows[0][1].is_null());
}

TEST(SqlReply, ErrorBodyOfOtherRoutes) {
  ServerError e =
      ParseErrorBody(401, R"json({"status":"error","error":{"code":"INVALID_CREDENTIALS",
      "message":"Invalid username or password"}})json");
  EXPECT_EQ(e.code, "INVALID_CREDENTIALS");
  EXPECT_EQ(ParseErrorBody(503, "down").code, "HTTP_503");
}

TEST(SqlReply, NumericTypes) {
  EXPECT_TRUE(IsNumericType("BigInt"));
  EXPECT_TRUE(IsNumericType("Decimal(10,2)"));
  EXPECT_FALSE(IsNumericType("Text"));
  EXPECT_FALSE(IsNumericType("Timestamp"));
}

}  // namespace
}  // namespace kalam::cli
