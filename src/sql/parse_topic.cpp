// CREATE TOPIC, DROP TOPIC, CLEAR TOPIC, ALTER TOPIC ... ADD|DROP SOURCE, CONSUME FROM, ACK,
// RESET CONSUMER GROUP.
#include "sql/statement_parser.h"

namespace kalam::sql {

Result<TopicPosition> StatementParser::Position(std::string_view where) {
  if (Accept("LATEST")) return TopicPosition{TopicPosition::Kind::kLatest, 0};
  if (Accept("EARLIEST")) return TopicPosition{TopicPosition::Kind::kEarliest, 0};
  if (IsSymbol(Peek(), '-') && Peek(1).kind == TokenKind::kNumber) {
    return Status(Code::kInvalidInput, fmt::format("An offset must not be negative ({})", where));
  }
  Result<int64_t> offset = Integer(0, where);
  if (!offset.ok()) return Fail("LATEST, EARLIEST or an offset", where);
  return TopicPosition{TopicPosition::Kind::kOffset, *offset};
}

Result<std::string> StatementParser::TopicOp(std::string_view where) {
  for (const char* op : {"INSERT", "UPDATE", "DELETE"}) {
    if (Accept(op)) return Lower(op);
  }
  return Fail("INSERT, UPDATE or DELETE", where);
}

Result<KalamStatement> StatementParser::ParseCreateTopic() {
  CreateTopic create;
  KALAM_RETURN_IF_ERROR(AcceptIfNotExists(create.if_not_exists));
  Result<TableName> topic = QualifiedName(After(""));
  if (!topic.ok()) return topic.status();
  create.topic = std::move(*topic);
  if (Accept("PARTITIONS")) {
    Result<int64_t> n = Integer(1, After("PARTITIONS"));
    if (!n.ok()) return n.status();
    create.partitions = *n;
  }
  if (!AtEnd()) return Fail("PARTITIONS or the end", After("the topic name"));
  return KalamStatement(std::move(create));
}

Result<KalamStatement> StatementParser::ParseDropTopic() {
  DropTopic drop;
  drop.if_exists = AcceptIfExists();
  Result<TableName> topic = QualifiedName(After(""));
  if (!topic.ok()) return topic.status();
  drop.topic = std::move(*topic);
  return KalamStatement(std::move(drop));
}

Result<KalamStatement> StatementParser::ParseClearTopic() {
  Result<TableName> topic = QualifiedName(After(""));
  if (!topic.ok()) return topic.status();
  return KalamStatement(ClearTopic{std::move(*topic)});
}

Result<KalamStatement> StatementParser::ParseAlterTopic() {
  AlterTopicSource alter;
  Result<TableName> topic = QualifiedName(After(""));
  if (!topic.ok()) return topic.status();
  alter.topic = std::move(*topic);
  if (Accept("ADD")) {
    alter.add = true;
  } else if (Accept("DROP")) {
    alter.add = false;
  } else {
    return Fail("ADD SOURCE or DROP SOURCE", After("the topic name"));
  }
  KALAM_RETURN_IF_ERROR(Expect("SOURCE", After(alter.add ? "ADD" : "DROP")));
  Result<TableName> table = QualifiedName(After("SOURCE"));
  if (!table.ok()) return table.status();
  alter.table = std::move(*table);
  KALAM_RETURN_IF_ERROR(Expect("ON", After("the source table")));
  Result<std::string> op = TopicOp(After("ON"));
  if (!op.ok()) return op.status();
  alter.op = std::move(*op);
  if (!alter.add) return KalamStatement(std::move(alter));
  if (Accept("WHERE")) {
    // The condition runs up to WITH ( at the top level, or the end.
    const size_t first = next_;
    int depth = 0;
    while (!AtEnd()) {
      if (depth == 0 && PeekKeyword("WITH") && IsSymbol(Peek(1), '(')) break;
      if (IsSymbol(Peek(), '(')) ++depth;
      if (IsSymbol(Peek(), ')')) --depth;
      Take();
    }
    alter.where_sql = std::string(SourceBetween(first, next_));
    if (alter.where_sql.empty()) return Fail("a condition", After("WHERE"));
  }
  if (Accept("WITH")) {
    KALAM_RETURN_IF_ERROR(OptionList("WITH", [&](std::string key, const std::string& option) {
      if (key != "payload") {
        return Status(Code::kInvalidSql, fmt::format("Unknown {} in {} (payload is the only one)", option, statement_));
      }
      Result<std::string> payload = String("payload", After("'=' of " + option));
      if (!payload.ok()) return payload.status();
      const std::string lower = Lower(*payload);
      if (lower != "key" && lower != "full" && lower != "diff") {
        // The value is not repeated: an error never echoes a string the statement held.
        return Status(Code::kInvalidSql, "The payload of a topic source is 'key', 'full' or 'diff'");
      }
      alter.payload = lower;
      return Status::Ok();
    }));
  }
  if (!AtEnd()) return Fail("WHERE, WITH or the end", After("the operation"));
  return KalamStatement(std::move(alter));
}

Result<KalamStatement> StatementParser::ParseConsume() {
  ConsumeFrom consume;
  Result<TableName> topic = QualifiedName(After(""));
  if (!topic.ok()) return topic.status();
  consume.topic = std::move(*topic);
  // The clauses in any order, each once.
  while (!AtEnd()) {
    if (Accept("GROUP")) {
      Result<std::string> group = Name("a group name", After("GROUP"));
      if (!group.ok()) return group.status();
      KALAM_RETURN_IF_ERROR(SetOnce(consume.group, std::move(*group), "GROUP"));
    } else if (Accept("PARTITION")) {
      Result<int64_t> p = Integer(0, After("PARTITION"));
      if (!p.ok()) return p.status();
      KALAM_RETURN_IF_ERROR(SetOnce(consume.partition, *p, "PARTITION"));
    } else if (Accept("FROM")) {
      Result<TopicPosition> from = Position(After("FROM"));
      if (!from.ok()) return from.status();
      consume.from = *from;
    } else if (Accept("LIMIT")) {
      Result<int64_t> n = Integer(1, After("LIMIT"));
      if (!n.ok()) return n.status();
      KALAM_RETURN_IF_ERROR(SetOnce(consume.limit, *n, "LIMIT"));
    } else {
      return Fail("GROUP, PARTITION, FROM, LIMIT or the end", After("the topic name"));
    }
  }
  return KalamStatement(std::move(consume));
}

Result<KalamStatement> StatementParser::ParseAck() {
  AckTopic ack;
  Result<TableName> topic = QualifiedName(After(""));
  if (!topic.ok()) return topic.status();
  ack.topic = std::move(*topic);
  KALAM_RETURN_IF_ERROR(Expect("GROUP", After("the topic name")));
  Result<std::string> group = Name("a group name", After("GROUP"));
  if (!group.ok()) return group.status();
  ack.group = std::move(*group);
  if (Accept("PARTITION")) {
    Result<int64_t> p = Integer(0, After("PARTITION"));
    if (!p.ok()) return p.status();
    ack.partition = *p;
  }
  KALAM_RETURN_IF_ERROR(Expect("UPTO", After("the group")));
  KALAM_RETURN_IF_ERROR(Expect("OFFSET", After("UPTO")));
  if (IsSymbol(Peek(), '-') && Peek(1).kind == TokenKind::kNumber) {
    return Status(Code::kInvalidInput, "The offset to acknowledge must not be negative");
  }
  Result<int64_t> upto = Integer(0, After("UPTO OFFSET"));
  if (!upto.ok()) return upto.status();
  ack.upto = *upto;
  return KalamStatement(std::move(ack));
}

Result<KalamStatement> StatementParser::ParseResetConsumerGroup() {
  ResetConsumerGroup reset;
  Result<std::string> group = Name("a group name", After(""));
  if (!group.ok()) return group.status();
  reset.group = std::move(*group);
  KALAM_RETURN_IF_ERROR(Expect("ON", After("the group")));
  Result<TableName> topic = QualifiedName(After("ON"));
  if (!topic.ok()) return topic.status();
  reset.topic = std::move(*topic);
  if (Accept("PARTITION")) {
    Result<int64_t> p = Integer(0, After("PARTITION"));
    if (!p.ok()) return p.status();
    reset.partition = *p;
  }
  KALAM_RETURN_IF_ERROR(Expect("TO", After("the topic name")));
  Result<TopicPosition> to = Position(After("TO"));
  if (!to.ok()) return to.status();
  reset.to = *to;
  return KalamStatement(std::move(reset));
}

}  // namespace kalam::sql
