// Command tags, SQLSTATEs, result conversion and locally answered session statements.
#include <gtest/gtest.h>

#include "pgwire/command_tag.h"
#include "pgwire/protocol.h"
#include "pgwire/results.h"
#include "pgwire/session_settings.h"

namespace kalam::pgwire {
namespace {

TEST(CommandTagTest, NamesStatementsAsPostgresDoes) {
  EXPECT_EQ(CommandTag("select * from t", 3, true), "SELECT 3");
  EXPECT_EQ(CommandTag("/* c */ INSERT INTO t VALUES (1)", 1, false), "INSERT 0 1");
  EXPECT_EQ(CommandTag("insert into t values (1) returning id", 1, true), "INSERT 0 1");
  EXPECT_EQ(CommandTag("UPDATE t SET a = 1", 2, false), "UPDATE 2");
  EXPECT_EQ(CommandTag("-- x\nDELETE FROM t", 0, false), "DELETE 0");
  EXPECT_EQ(CommandTag("CREATE USER TABLE app.t (id BIGINT PRIMARY KEY)", 0, false), "CREATE TABLE");
  EXPECT_EQ(CommandTag("create namespace app", 0, false), "CREATE NAMESPACE");
  EXPECT_EQ(CommandTag("START TRANSACTION", 0, false), "BEGIN");
  EXPECT_EQ(CommandTag("end", 0, false), "COMMIT");
  EXPECT_EQ(CommandTag("SHOW TABLES", 4, true), "SELECT 4");
}

TEST(SqlStateTest, MapsOurCodes) {
  EXPECT_EQ(SqlState(Code::kInvalidSql), "42601");
  EXPECT_EQ(SqlState(Code::kNotFound), "42P01");
  EXPECT_EQ(SqlState(Code::kPermissionDenied), "42501");
  EXPECT_EQ(SqlState(Code::kConstraintViolation), "23505");
  EXPECT_EQ(SqlState(Code::kInvalidCredentials), "28P01");
  EXPECT_EQ(SqlState(Code::kTransactionConflict), "40001");
  EXPECT_EQ(SqlState(Code::kStatementTimeout), "57014");
  EXPECT_EQ(SqlState(Code::kInternalError), "XX000");
}

TEST(ResultsTest, RowsInTextFormatWithTheirOids) {
  query::RowSet rows;
  rows.schema_json =
      R"j([{"name":"id","data_type":"BigInt","index":0},{"name":"at","data_type":"Timestamp","index":1},)j"
      R"j({"name":"d","data_type":"Decimal(10,2)","index":2},{"name":"b","data_type":"Bytes","index":3}])j";
  rows.rows_json = R"j([[9007199254740993,"2026-01-02T03:04:05.500000Z","1.50","eHk="],[1,null,null,null]])j";
  std::string out;
  auto result = ResultRows::Parse(rows);
  ASSERT_TRUE(result.ok());
  ASSERT_TRUE(result->AppendAll(out, {}).ok());
  EXPECT_EQ(out[0], 'T');
  EXPECT_NE(out.find("9007199254740993"), std::string::npos);
  EXPECT_NE(out.find("2026-01-02 03:04:05.5"), std::string::npos);
  EXPECT_EQ(out.find("05.500"), std::string::npos);
  EXPECT_NE(out.find("\\x7879"), std::string::npos);
  query::RowSet typed;
  typed.schema_json = R"j([{"name":"d","data_type":"Decimal(10,2)"},{"name":"t","data_type":"Timestamp"},)j"
                      R"j({"name":"i","data_type":"Interval"}])j";
  typed.rows_json = "[]";
  auto parsed = ResultRows::Parse(typed);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->columns()[0].oid, 1700);
  EXPECT_EQ(parsed->columns()[1].oid, 1114);
  EXPECT_EQ(parsed->columns()[2].oid, 25);  // no OID of its own: text
  rows.rows_json = R"j([[1]])j";  // fewer cells than columns
  EXPECT_FALSE(ResultRows::Parse(rows).ok());
}

TEST(SessionSettingsTest, AnswersSessionStatementsLocally) {
  SessionSettings settings = SessionSettings::AtStartup({{"user", "alice"}, {"database", "db"}});
  EXPECT_FALSE(AnswerLocally("SELECT * FROM t", settings));
  EXPECT_FALSE(AnswerLocally("SHOW TABLES", settings));
  EXPECT_FALSE(AnswerLocally("SELECT version() FROM t", settings));
  auto set = AnswerLocally("SET search_path TO \"app\", public", settings);
  ASSERT_TRUE(set && set->error.ok());
  EXPECT_EQ(set->tag, "SET");
  EXPECT_EQ(settings.namespace_id, "app");
  ASSERT_TRUE(AnswerLocally("use other;", settings));
  EXPECT_EQ(settings.namespace_id, "other");
  auto name = AnswerLocally("SET application_name = 'x'", settings);
  ASSERT_TRUE(name);
  ASSERT_EQ(name->reported.size(), 1u);
  EXPECT_EQ(name->reported[0].first, "application_name");
  auto zone = AnswerLocally("SET TIME ZONE 'Europe/Paris'", settings);
  ASSERT_TRUE(zone);
  EXPECT_FALSE(zone->notice.empty());
  auto encoding = AnswerLocally("SET client_encoding TO 'LATIN1'", settings);
  ASSERT_TRUE(encoding);
  EXPECT_EQ(encoding->error.code(), Code::kUnsupported);
  auto db = AnswerLocally("select pg_catalog.current_database() as d", settings);
  ASSERT_TRUE(db && db->rows);
  EXPECT_NE(db->rows->rows_json.find("\"db\""), std::string::npos);
  EXPECT_NE(db->rows->schema_json.find("\"d\""), std::string::npos);
  ASSERT_TRUE(AnswerLocally("RESET ALL", settings));
  EXPECT_EQ(settings.namespace_id, "default");
}

TEST(ProtocolTest, MessagesCarryTheirLength) {
  std::string out;
  AppendReadyForQuery(out, TxStatus::kInTransaction);
  EXPECT_EQ(out, std::string("Z\0\0\0\5T", 6));
  BodyReader reader(std::string_view("ab\0\0\0\0\7", 7));
  EXPECT_EQ(reader.CString(), "ab");
  EXPECT_EQ(reader.Int32(), 7);
  EXPECT_TRUE(reader.ok() && reader.at_end());
  EXPECT_EQ(reader.Int16(), 0);
  EXPECT_FALSE(reader.ok());
}

// The body of a frontend message, as MessageBuilder writes it (without type and length).
std::string Body(MessageBuilder& builder) {
  std::string out;
  builder.AppendTo(out);
  return out.substr(5);
}

TEST(ProtocolTest, FrontendMessagesReadWholeOrNotAtAll) {
  MessageBuilder parse('P');
  parse.CString("s1").CString("SELECT $1").Int16(1).Int32(23);
  const std::string parse_body = Body(parse);
  const auto read_parse = ReadParse(parse_body);
  ASSERT_TRUE(read_parse);
  EXPECT_EQ(read_parse->name, "s1");
  EXPECT_EQ(read_parse->query, "SELECT $1");
  EXPECT_EQ(read_parse->param_types, std::vector<int32_t>{23});
  EXPECT_FALSE(ReadParse(parse_body + "x"));  // a byte too many
  EXPECT_FALSE(ReadParse(parse_body.substr(0, parse_body.size() - 1)));

  MessageBuilder bind('B');
  bind.CString("").CString("s1").Int16(-1).Int16(2).Int32(1).Bytes("7").Int32(-1).Int16(1).Int16(1);
  const std::string bind_body = Body(bind);
  const auto read_bind = ReadBind(bind_body);
  ASSERT_TRUE(read_bind);
  EXPECT_TRUE(read_bind->param_formats.empty());  // a negative count reads as none
  ASSERT_EQ(read_bind->values.size(), 2u);
  EXPECT_EQ(read_bind->values[0], std::optional<std::string_view>("7"));
  EXPECT_EQ(read_bind->values[1], std::nullopt);  // NULL
  EXPECT_EQ(read_bind->result_formats, std::vector<int16_t>{1});

  EXPECT_EQ(ReadTarget(std::string_view("P\0", 2))->kind, 'P');
  EXPECT_FALSE(ReadTarget(std::string_view("X\0", 2)));
  EXPECT_EQ(ReadExecute(std::string_view("p\0\0\0\0\5", 6))->max_rows, 5);
  EXPECT_EQ(ReadQuery(std::string_view("SELECT 1\0ignored", 16)), "SELECT 1");
  EXPECT_FALSE(ReadQuery("no NUL"));
  const auto sasl = ReadSaslInitialResponse(std::string_view("SCRAM-SHA-256\0\0\0\0\3abc", 21));
  ASSERT_TRUE(sasl);
  EXPECT_EQ(sasl->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(sasl->client_first, "abc");

  // Start-up parameters: the first of a repeated name counts; _pq_ options are skipped.
  const auto parameters =
      ReadStartupParameters(std::string_view("user\0alice\0user\0bob\0_pq_.x\0y\0\0", 30));
  ASSERT_TRUE(parameters);
  EXPECT_EQ(*parameters, (std::map<std::string, std::string>{{"user", "alice"}}));
  EXPECT_FALSE(ReadStartupParameters(std::string_view("user\0alice", 10)));
}

}  // namespace
}  // namespace kalam::pgwire
