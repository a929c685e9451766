#include "cli/output_format.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kalam::cli {
namespace {

// The result of SELECT id, body, score over two rows, as the server sends it.
StatementResult Messages() {
  auto reply = ParseSqlReply(200, R"json({"status":"success","results":[{
      "schema":[{"name":"id","data_type":"BigInt","index":0},
                {"name":"body","data_type":"Text","index":1},
                {"name":"score","data_type":"Double","index":2}],
      "rows":[[1,"hello",1.5],[9007199254740993,null,null]],
      "row_count":2}],"took":0.5})json");
  EXPECT_TRUE(reply.ok());
  return reply->results.at(0);
}

RenderOptions Table(bool color = false, size_t width = 0) {
  return {OutputFormat::kTable, color, width};
}

TEST(OutputFormat, TableAlignsNumbersRightAndTextLeft) {
  EXPECT_EQ(Render(Messages(), Table()),
            "               id | body  | score\n"
            "------------------+-------+-------\n"
            "                1 | hello |   1.5\n"
            " 9007199254740993 | NULL  |  NULL\n"
            "(2 rows)\n");
}

TEST(OutputFormat, TableShowsNullDimmedWithColorAndPlainWithout) {
  const std::string colored = Render(Messages(), Table(true));
  // Styles cover the text, not the padding, so the columns still line up.
  EXPECT_NE(colored.find(" | \x1b[2mNULL\x1b[0m  |  \x1b[2mNULL\x1b[0m\n"), std::string::npos)
      << colored;
  EXPECT_NE(colored.find("\x1b[1m"), std::string::npos);  // bold header
  const std::string plain = Render(Messages(), Table(false));
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_NE(plain.find("NULL"), std::string::npos);
}

TEST(OutputFormat, TableCutsLongValuesToTheWidth) {
  StatementResult r;
  r.has_rows = true;
  r.columns = {{"n", "Int"}, {"text", "Text"}};
  r.rows = {{{Value::Kind::kNumber, "7"}, {Value::Kind::kString, std::string(200, 'x')}}};
  const std::string out = Render(r, Table(false, 30));
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) EXPECT_LE(DisplayWidth(line), 30u) << line;
  EXPECT_NE(out.find("xxx…"), std::string::npos) << out;
  EXPECT_NE(out.find(" 7 | "), std::string::npos) << out;
  // Without a width nothing is cut.
  EXPECT_NE(Render(r, Table()).find(std::string(200, 'x')), std::string::npos);
}

TEST(OutputFormat, TableKeepsOneLinePerRow) {
  StatementResult r;
  r.has_rows = true;
  r.columns = {{"t", "Text"}};
  r.rows = {{{Value::Kind::kString, "a\nb\tc"}}};
  EXPECT_EQ(Render(r, Table()), " t\n---------\n a\\nb\\tc\n(1 row)\n");
}

TEST(OutputFormat, TableWithoutRowsPrintsTheMessage) {
  StatementResult r;
  r.row_count = 3;
  r.message = "Inserted 3 row(s)";
  EXPECT_EQ(Render(r, Table()), "Inserted 3 row(s)\n");
  r.message.clear();
  EXPECT_EQ(Render(r, Table()), "OK, 3 rows affected\n");
}

TEST(OutputFormat, EmptyResultHasHeaderAndZeroRows) {
  StatementResult r = Messages();
  r.rows.clear();
  EXPECT_EQ(Render(r, Table()), " id | body | score\n----+------+-------\n(0 rows)\n");
  EXPECT_EQ(Render(r, {OutputFormat::kJson}), "[]\n");
  EXPECT_EQ(Render(r, {OutputFormat::kCsv}), "id,body,score\n");
}

TEST(OutputFormat, JsonKeepsEveryDigitAndTypes) {
  EXPECT_EQ(Render(Messages(), {OutputFormat::kJson}),
            "[\n"
            "  {\"id\":1,\"body\":\"hello\",\"score\":1.5},\n"
            "  {\"id\":9007199254740993,\"body\":null,\"score\":null}\n"
            "]\n");
  StatementResult done;
  done.row_count = 1;
  done.message = "Inserted 1 row(s)";
  EXPECT_EQ(Render(done, {OutputFormat::kJson}),
            "{\"row_count\":1,\"message\":\"Inserted 1 row(s)\"}\n");
}

TEST(OutputFormat, JsonValuesStayJson) {
  auto reply = ParseSqlReply(200, R"json({"status":"success","results":[{
      "schema":[{"name":"j","data_type":"Json"},{"name":"b","data_type":"Boolean"},
                {"name":"q","data_type":"Text"}],
      "rows":[[{"a":[1,2]},true,"say \"hi\""]],"row_count":1}]})json");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(Render(reply->results[0], {OutputFormat::kJson}),
            "[\n  {\"j\":{\"a\":[1,2]},\"b\":true,\"q\":\"say \\\"hi\\\"\"}\n]\n");
  EXPECT_EQ(Render(reply->results[0], Table()),
            " j           | b    | q\n"
            "-------------+------+----------\n"
            " {\"a\":[1,2]} | true | say \"hi\"\n"
            "(1 row)\n");
}

TEST(OutputFormat, CsvQuotesWhatNeedsItAndLeavesNullEmpty) {
  StatementResult r;
  r.has_rows = true;
  r.columns = {{"a", "Text"}, {"b", "Text"}, {"c", "Int"}};
  r.rows = {
      {{Value::Kind::kString, "x,y"}, {Value::Kind::kString, "say \"hi\"\n"}, {}},
      {{Value::Kind::kString, ""}, {Value::Kind::kString, "plain"}, {Value::Kind::kNumber, "3"}}};
  EXPECT_EQ(Render(r, {OutputFormat::kCsv}),
            "a,b,c\n"
            "\"x,y\",\"say \"\"hi\"\"\n\",\n"
            "\"\",plain,3\n");
  StatementResult done;
  done.message = "Inserted 1 row(s)";
  EXPECT_EQ(Render(done, {OutputFormat::kCsv}), "");  // CSV output stays CSV
}

TEST(OutputFormat, CutToWidthCountsCodePoints) {
  EXPECT_EQ(DisplayWidth("héllo"), 5u);
  EXPECT_EQ(CutToWidth("héllo", 5), "héllo");
  EXPECT_EQ(CutToWidth("héllo", 3), "hé…");
  EXPECT_EQ(CutToWidth("héllo", 1), "…");
  EXPECT_EQ(CutToWidth("héllo", 0), "");
}

TEST(OutputFormat, ParsesFormatNames) {
  EXPECT_EQ(ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_FALSE(ParseOutputFormat("xml"));
  EXPECT_EQ(OutputFormatName(OutputFormat::kCsv), "csv");
}

}  // namespace
}  // namespace kalam::cli
