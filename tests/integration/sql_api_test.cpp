// POST /v1/api/sql: request validation, batches, parameters, error shapes, HTTP details.
#include <gtest/gtest.h>


#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

class SqlApi : public ServerTest {};

TEST_F(SqlApi, SelectReturnsSchemaRowsAndTiming) {
  auto r = Root("SELECT 1 AS one, 'hi' AS greeting, NULL AS nothing");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.at("status").as_string(), "success");
  EXPECT_TRUE(r.body.at("took").is_double());
  const auto& result = r.result(0);
  EXPECT_EQ(result.at("row_count").as_int64(), 1);
  EXPECT_EQ(result.at("as_user").as_string(), "root");
  const auto& schema = result.at("schema").as_array();
  ASSERT_EQ(schema.size(), 3u);
  EXPECT_EQ(schema[0].at("name").as_string(), "one");
  EXPECT_EQ(schema[0].at("data_type").as_string(), "Int");
  EXPECT_EQ(schema[1].at("data_type").as_string(), "Text");
  EXPECT_EQ(schema[2].at("index").as_int64(), 2);
  EXPECT_EQ(json::serialize(r.rows()), R"([[1,"hi",null]])");
}

TEST_F(SqlApi, EncodesEveryType) {
  auto r = Root(
      "SELECT 9007199254740993::BIGINT AS big, (-32768)::SMALLINT AS small, 1.5::DOUBLE AS dbl, "
      "'NaN'::DOUBLE AS nan, 12.30::DECIMAL(10,2) AS dec, TRUE AS flag, 'x\"\\y\n'::TEXT AS txt, "
      "'\\x01\\xff'::BLOB AS bytes, '{\"a\":[1,2]}'::JSON AS doc, "
      "TIMESTAMP '2026-11-24 05:00:00.123456' AS ts, DATE '2026-11-24' AS d, "
      "TIME '01:02:03' AS t, TIME '01:02:03.5' AS t2, "
      "'6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID AS u, '' AS empty, NULL::TEXT AS absent");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  const auto& row = r.rows().at(0).as_array();
  const auto& schema = r.result(0).at("schema").as_array();
  auto type = [&](size_t i) { return std::string(schema[i].at("data_type").as_string()); };
  // BigInt past 2^53 keeps every digit: compare the raw JSON text.
  EXPECT_NE(json::serialize(r.body).find("9007199254740993"), std::string::npos);
  EXPECT_EQ(type(0), "BigInt");
  EXPECT_EQ(row[1].as_int64(), -32768);
  EXPECT_EQ(type(1), "SmallInt");
  EXPECT_DOUBLE_EQ(row[2].as_double(), 1.5);
  EXPECT_EQ(type(2), "Double");
  EXPECT_TRUE(row[3].is_null());
  EXPECT_EQ(row[4].as_string(), "12.30");
  EXPECT_EQ(type(4), "Decimal(10,2)");
  EXPECT_EQ(row[5].as_bool(), true);
  EXPECT_EQ(row[6].as_string(), "x\"\\y\n");
  EXPECT_EQ(row[7].as_string(), "Af8=");
  EXPECT_EQ(type(7), "Bytes");
  EXPECT_EQ(json::serialize(row[8]), R"({"a":[1,2]})");
  EXPECT_EQ(type(8), "Json");
  EXPECT_EQ(row[9].as_string(), "2026-11-24T05:00:00.123456Z");
  EXPECT_EQ(type(9), "Timestamp");
  EXPECT_EQ(row[10].as_string(), "2026-11-24");
  EXPECT_EQ(type(10), "Date");
  EXPECT_EQ(row[11].as_string(), "01:02:03");
  EXPECT_EQ(row[12].as_string(), "01:02:03.500000");
  EXPECT_EQ(type(11), "Time");
  EXPECT_EQ(row[13].as_string(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  EXPECT_EQ(type(13), "Uuid");
  EXPECT_EQ(row[14].as_string(), "");
  EXPECT_TRUE(row[15].is_null());
}

TEST_F(SqlApi, AliasRouteAnswersTheSame) {
  auto r = Sql(http_, RootAuth(), "SELECT 41 + 1 AS answer", "", "/api/sql");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.rows().at(0).as_array().at(0).as_int64(), 42);
}

TEST_F(SqlApi, EmptySql) {
  for (const char* sql : {"", "   ", ";;", "-- only a comment", "/* nothing */ ;"}) {
    auto r = Root(sql);
    EXPECT_EQ(r.status, 400) << sql;
    EXPECT_EQ(r.error_code(), "EMPTY_SQL") << sql;
  }
}

TEST_F(SqlApi, MalformedBodiesAreInvalidInput) {
  client::Headers auth{{"Authorization", RootAuth()}};
  for (const char* body : {"not json", "{\"sql\":", "[1,2]", "{}", "{\"sql\":42}",
                           "{\"sql\":\"SELECT 1\",\"namespace_id\":7}", "\"SELECT 1\""}) {
    auto res = http_.Send("POST", "/v1/api/sql", body, auth);
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->status, 400) << body;
    auto parsed = json::parse(res->body);
    EXPECT_EQ(parsed.at("status").as_string(), "error");
    EXPECT_EQ(parsed.at("error").at("code").as_string(), "INVALID_INPUT") << body;
  }
}

TEST_F(SqlApi, Parameters) {
  auto r = Root("SELECT $1::BIGINT + 1 AS n, $2 AS s, $3 AS b, $4 AS nothing, $5 AS f",
                R"("params":[41,"it's",true,null,2.5])");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  EXPECT_EQ(json::serialize(r.rows()), R"([[42,"it's",true,null,2.5E0]])");
}

TEST_F(SqlApi, ParameterErrors) {
  auto missing = Root("SELECT $1, $2", R"("params":[1])");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.error_code(), "INVALID_PARAMETER");
  auto nested = Root("SELECT $1", R"("params":[[1]])");
  EXPECT_EQ(nested.error_code(), "INVALID_PARAMETER");
  auto not_array = Root("SELECT $1", R"("params":{"a":1})");
  EXPECT_EQ(not_array.error_code(), "INVALID_PARAMETER");
  auto unbound = Root("SELECT $1");
  EXPECT_EQ(unbound.status, 400);
  EXPECT_EQ(unbound.error_code(), "INVALID_PARAMETER");
}

TEST_F(SqlApi, ParamsWithBatch) {
  auto r = Root("SELECT $1; SELECT 2", R"("params":[1])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code(), "PARAMS_WITH_BATCH");
}

TEST_F(SqlApi, BatchStopsAtFirstFailureAndKeepsEarlierStatements) {
  auto r = Root(
      "CREATE NAMESPACE batch_kept; SELECT * FROM no_such_table; CREATE NAMESPACE batch_never");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body.at("status").as_string(), "error");
  EXPECT_EQ(r.error_code(), "NOT_FOUND");
  EXPECT_EQ(r.body.at("error").at("statement_index").as_int64(), 2);
  ASSERT_EQ(r.body.at("results").as_array().size(), 1u);
  auto names = Root("SELECT name FROM system.namespaces WHERE name LIKE 'batch_%' ORDER BY name");
  EXPECT_EQ(json::serialize(names.rows()), R"([["batch_kept"]])");
}

TEST_F(SqlApi, SplitterRespectsQuotesAndComments) {
  auto r = Root("SELECT 'a;b' AS x; -- c;d\nSELECT \"weird;name\" FROM (SELECT 1 AS \"weird;name\"); /* ; */");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  ASSERT_EQ(r.body.at("results").as_array().size(), 2u);
  EXPECT_EQ(r.rows(0).at(0).as_array().at(0).as_string(), "a;b");
  EXPECT_EQ(r.rows(1).at(0).as_array().at(0).as_int64(), 1);
}

TEST_F(SqlApi, SqlErrorsNameTheProblem) {
  auto syntax = Root("SELEC 1");
  EXPECT_EQ(syntax.status, 400);
  EXPECT_EQ(syntax.error_code(), "INVALID_SQL");
  auto column = Root("SELECT nope FROM system.namespaces");
  EXPECT_EQ(column.error_code(), "INVALID_SQL");
  auto runtime = Root("SELECT 'abc'::INT");
  EXPECT_EQ(runtime.status, 400);
  EXPECT_EQ(runtime.error_code(), "SQL_EXECUTION_ERROR");
  auto missing = Root("SELECT * FROM app_none.messages");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(std::string(missing.body.at("error").at("message").as_string()).find("app_none"),
            std::string::npos);
}

TEST_F(SqlApi, NamespaceIdSetsTheDefaultNamespace) {
  Root("CREATE NAMESPACE IF NOT EXISTS chat");
  auto r = Root("SELECT * FROM messages", R"("namespace_id":"chat")");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(std::string(r.body.at("error").at("message").as_string()).find("chat.messages"),
            std::string::npos);
}

TEST_F(SqlApi, UnknownRoutesAndMethods) {
  auto unknown = http_.Send("GET", "/v1/api/nothing");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body).at("error").at("code").as_string(), "NOT_FOUND");
  auto wrong_method = http_.Send("GET", "/v1/api/sql");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 404);
  EXPECT_EQ(json::parse(wrong_method->body).at("status").as_string(), "error");
}

TEST_F(SqlApi, CorsHeadersAndPreflight) {
  auto preflight = http_.Send("OPTIONS", "/v1/api/sql", "",
                              {{"Origin", "http://app.example"},
                               {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(preflight.ok());
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->Header("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(preflight->Header("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  auto health = http_.Send("GET", "/health");
  EXPECT_EQ(health->Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(health->Header("Content-Type"), "application/json");
}

TEST_F(SqlApi, OversizedBodyIs413) {
  std::string sql = "SELECT '" + std::string(5 * 1024 * 1024, 'x') + "'";
  auto res = http_.Send("POST", "/v1/api/sql", "{\"sql\":\"" + sql + "\"}",
                        {{"Authorization", RootAuth()}});
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(json::parse(res->body).at("error").at("code").as_string(), "PAYLOAD_TOO_LARGE");
  // The server is still there.
  auto again = server_->Client().Send("GET", "/health");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
}

TEST_F(SqlApi, MalformedHttpGetsAnErrorNotACrash) {
  auto garbage = http_.SendRaw("THIS IS NOT HTTP\r\n\r\n");
  if (garbage.ok()) {
    EXPECT_EQ(garbage->status, 400);
  }
  auto bad_length = http_.SendRaw(
      "POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
  if (bad_length.ok()) {
    EXPECT_EQ(bad_length->status, 400);
  }
  auto health = server_->Client().Send("GET", "/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(SqlApi, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 50; ++i) {
    auto r = Root("SELECT " + std::to_string(i) + " AS i");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.rows().at(0).as_array().at(0).as_int64(), i);
  }
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(RateLimit, PerUserLimitAnswers429ThenRecovers) {
  ServerProcess server({"", "[rate_limit]\nqueries_per_sec_per_user = 3\n", {}, true, ""});
  server.Start();
  auto http = server.Client();
  int limited = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = Sql(http, RootAuth(), "SELECT 1");
    if (r.status == 429) {
      EXPECT_EQ(r.error_code(), "RATE_LIMIT_EXCEEDED");
      ++limited;
    }
  }
  EXPECT_GE(limited, 5);
  // Refused queries take no token, so asking again recovers as the bucket refills.
  EXPECT_TRUE(WaitUntil([&] { return Sql(http, RootAuth(), "SELECT 1").status == 200; },
                        std::chrono::seconds(5)));
}

}  // namespace
}  // namespace kalam::testing
