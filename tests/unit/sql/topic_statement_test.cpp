// CREATE/DROP/CLEAR/ALTER TOPIC, CONSUME FROM, ACK and RESET CONSUMER GROUP: one grammar
// with the other statements.
#include <gtest/gtest.h>

#include "statement_test_helpers.h"

namespace kalam::sql {
namespace {

using testing::ErrorOf;
using testing::ParseAs;

TEST(TopicStatements, CreateDropClear) {
  auto create = ParseAs<CreateTopic>("CREATE TOPIC IF NOT EXISTS app.\"Events\" PARTITIONS 4");
  ASSERT_TRUE(create);
  EXPECT_TRUE(create->if_not_exists);
  EXPECT_EQ(create->topic.ns, "app");
  EXPECT_EQ(create->topic.name, "Events");
  EXPECT_EQ(create->partitions, 4);
  EXPECT_EQ(ParseAs<CreateTopic>("create topic t")->partitions, 1);
  EXPECT_NE(ErrorOf("CREATE TOPIC t PARTITIONS 0").find("positive integer"), std::string::npos);
  EXPECT_NE(ErrorOf("CREATE TOPIC t SHARDS 2").find("PARTITIONS or the end"), std::string::npos);
  EXPECT_TRUE(ParseAs<DropTopic>("DROP TOPIC IF EXISTS app.t")->if_exists);
  EXPECT_EQ(ParseAs<ClearTopic>("CLEAR TOPIC app.t")->topic.name, "t");
  ErrorOf("DROP TOPIC app.t now");
}

TEST(TopicStatements, SourcesWithConditionsAndPayloads) {
  auto add = ParseAs<AlterTopicSource>(
      "ALTER TOPIC app.t ADD SOURCE app.messages ON insert WHERE room = 'WITH (x)' AND (n > 1) "
      "WITH (payload = 'DIFF')");
  ASSERT_TRUE(add);
  EXPECT_TRUE(add->add);
  EXPECT_EQ(add->table.name, "messages");
  EXPECT_EQ(add->op, "insert");
  EXPECT_EQ(add->where_sql, "room = 'WITH (x)' AND (n > 1)");
  EXPECT_EQ(add->payload, "diff");
  auto plain = ParseAs<AlterTopicSource>("ALTER TOPIC t ADD SOURCE m ON DELETE");
  EXPECT_EQ(plain->payload, "full");
  EXPECT_EQ(plain->where_sql, "");
  auto drop = ParseAs<AlterTopicSource>("ALTER TOPIC t DROP SOURCE m ON UPDATE");
  EXPECT_FALSE(drop->add);
  EXPECT_EQ(drop->op, "update");
  EXPECT_NE(ErrorOf("ALTER TOPIC t ADD SOURCE m ON MERGE").find("INSERT, UPDATE or DELETE"), std::string::npos);
  EXPECT_NE(ErrorOf("ALTER TOPIC t ADD SOURCE m ON INSERT WITH (payload = 'all')").find("'key', 'full' or 'diff'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("ALTER TOPIC t ADD SOURCE m ON INSERT WITH (format = 'json')").find("payload is the only one"),
            std::string::npos);
  ErrorOf("ALTER TOPIC t ADD SOURCE m ON INSERT WHERE");
  ErrorOf("ALTER TOPIC t RENAME TO u");
}

TEST(TopicStatements, ConsumeAckReset) {
  auto consume = ParseAs<ConsumeFrom>("CONSUME FROM app.t LIMIT 5 GROUP 'agents' FROM 17 PARTITION 2");
  ASSERT_TRUE(consume);
  EXPECT_EQ(consume->group, "agents");
  EXPECT_EQ(consume->limit, 5);
  EXPECT_EQ(consume->partition, 2);
  EXPECT_EQ(consume->from.kind, TopicPosition::Kind::kOffset);
  EXPECT_EQ(consume->from.offset, 17);
  auto bare = ParseAs<ConsumeFrom>("CONSUME FROM t");
  EXPECT_FALSE(bare->group);
  EXPECT_EQ(bare->from.kind, TopicPosition::Kind::kLatest);
  EXPECT_EQ(ParseAs<ConsumeFrom>("CONSUME FROM t FROM earliest")->from.kind, TopicPosition::Kind::kEarliest);
  EXPECT_NE(ErrorOf("CONSUME FROM t GROUP 'a' GROUP 'b'").find("given twice"), std::string::npos);
  ErrorOf("CONSUME FROM t FROM yesterday");
  EXPECT_EQ(ParseKalamStatement("CONSUME FROM t FROM -3").status().code(), Code::kInvalidInput);
  auto ack = ParseAs<AckTopic>("ACK app.t GROUP 'g' PARTITION 1 UPTO OFFSET 99");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->group, "g");
  EXPECT_EQ(ack->partition, 1);
  EXPECT_EQ(ack->upto, 99);
  EXPECT_EQ(ParseAs<AckTopic>("ACK t GROUP g UPTO OFFSET 0")->partition, 0);
  ErrorOf("ACK t UPTO OFFSET 1");
  ErrorOf("ACK t GROUP 'g' UPTO 1");
  EXPECT_EQ(ParseKalamStatement("ACK t GROUP 'g' UPTO OFFSET -1").status().code(), Code::kInvalidInput);
  auto reset = ParseAs<ResetConsumerGroup>("RESET CONSUMER GROUP 'g' ON app.t PARTITION 0 TO LATEST");
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->partition, 0);
  EXPECT_EQ(reset->to.kind, TopicPosition::Kind::kLatest);
  ErrorOf("RESET CONSUMER GROUP 'g' ON app.t");
}

}  // namespace
}  // namespace kalam::sql
