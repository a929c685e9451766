#include "topics/router.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "catalog/catalog.h"
#include "common/json_text.h"
#include "common/text.h"

namespace kalam::topics {
namespace {

using store::ChangeEvent;

class MatchesNothing final : public live::RowPredicate {
 public:
  bool Matches(const std::vector<store::Cell>&, int64_t) const override { return false; }
};

Op OpOf(ChangeEvent::Kind kind) {
  switch (kind) {
    case ChangeEvent::Kind::kInsert: return Op::kInsert;
    case ChangeEvent::Kind::kUpdate: return Op::kUpdate;
    case ChangeEvent::Kind::kDelete: return Op::kDelete;
  }
  return Op::kInsert;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendRowObject(std::string& out, const catalog::TableSchema& schema,
                     const store::RowImage& row, bool keys_only) {
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const auto& column = schema.columns[i];
    if (keys_only && !column.primary_key) continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, column.name);
    out.push_back(':');
    live::AppendCellJson(out, column, row.cells[i]);
  }
  if (!keys_only || schema.PrimaryKeyIndex() < 0) {
    if (!first) out.push_back(',');
    out += "\"_seq\":" + std::to_string(row.seq);
  }
  out.push_back('}');
}

// {"column": {"old": v, "new": v}, ...} over the columns whose values differ (every
// column for an insert or a delete, the missing side null).
void AppendDiff(std::string& out, const catalog::TableSchema& schema, const store::RowImage* old_row,
                const store::RowImage* new_row) {
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const auto& column = schema.columns[i];
    if (old_row != nullptr && new_row != nullptr && old_row->cells[i] == new_row->cells[i]) continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, column.name);
    out += ":{\"old\":";
    if (old_row != nullptr) live::AppendCellJson(out, column, old_row->cells[i]); else out += "null";
    out += ",\"new\":";
    if (new_row != nullptr) live::AppendCellJson(out, column, new_row->cells[i]); else out += "null";
    out.push_back('}');
  }
  out.push_back('}');
}

}  // namespace

int32_t PartitionOf(std::string_view key, int32_t partitions) {
  if (partitions <= 1) return 0;
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return static_cast<int32_t>(hash % static_cast<uint64_t>(partitions));
}

const std::vector<TopicRouter::Route>* TopicRouter::RoutesOf(const std::string& table_id) {
  auto state = registry_.snapshot();
  if (state != state_) {
    state_ = std::move(state);
    routes_.clear();
    filters_.clear();
    for (const auto& [id, topic] : state_->topics) {
      for (const auto& source : topic.sources) routes_[source.table_id].push_back({&topic, &source});
    }
  }
  auto it = routes_.find(table_id);
  return it == routes_.end() ? nullptr : &it->second;
}

const live::RowPredicate* TopicRouter::FilterOf(const Route& route, const catalog::TableDef& table,
                                                uint32_t version) {
  if (route.source->where_sql.empty()) return nullptr;
  const auto key = std::make_tuple(route.source, table.table_num, version);
  auto it = filters_.find(key);
  if (it == filters_.end()) {
    auto compiled = live::CompileRowFilter(route.source->where_sql, table, version);
    if (!compiled.ok()) {
      // A column the filter names was dropped or changed type: the table's writes go on,
      // and the source takes nothing until it is dropped and added again.
      spdlog::warn("the filter of topic {}'s source on {} ON {} no longer compiles ({}); it takes no rows",
                   route.topic->id(), table.id(), Upper(OpName(route.source->op)),
                   compiled.status().message());
      it = filters_.emplace(key, std::make_unique<MatchesNothing>()).first;
    } else {
      it = filters_.emplace(key, std::move(compiled).value()).first;
    }
  }
  return it->second.get();
}

Status TopicRouter::OnStatement(store::CommitContext& context, const std::vector<ChangeEvent>& events) {
  struct Pending {
    const TopicDef* topic;
    Message message;
    int32_t shard;  // cluster mode: the outbox's
  };
  std::vector<Pending> out;
  std::shared_ptr<const catalog::CatalogState> catalog;
  const int64_t now_ms = NowMillis();
  for (const ChangeEvent& event : events) {
    const std::vector<Route>* routes = RoutesOf(event.table_id);
    if (routes == nullptr) continue;
    const Op op = OpOf(event.kind);
    if (!catalog) catalog = catalog_.snapshot();
    const auto colon = event.table_id.find(':');
    const catalog::TableDef* table =
        catalog->FindTable(event.table_id.substr(0, colon), event.table_id.substr(colon + 1));
    if (table == nullptr) continue;  // dropped while the statement ran: nothing commits
    const catalog::TableSchema* schema = table->Version(event.schema_version);
    if (schema == nullptr) continue;
    const int key_index = schema->PrimaryKeyIndex();
    const int32_t shard = shard_of_ ? shard_of_(*table, event.scope) : -1;
    for (const Route& route : *routes) {
      if (route.source->op != op) continue;
      const live::RowPredicate* filter = FilterOf(route, *table, event.schema_version);
      for (size_t i = 0; i < event.rows.size(); ++i) {
        const store::RowImage& row = event.rows[i];
        const store::RowImage* old_row = op == Op::kUpdate ? &event.old_rows[i] : nullptr;
        if (filter != nullptr && !filter->Matches(row.cells, row.seq)) continue;
        Message m;
        m.op = op;
        m.timestamp_ms = now_ms;
        m.user = event.scope;
        m.key = key_index >= 0 ? live::CellText(schema->columns[key_index], row.cells[key_index])
                               : std::to_string(row.seq);
        m.partition = PartitionOf(m.key, route.topic->partitions);
        switch (route.source->payload) {
          case Payload::kKey: AppendRowObject(m.payload, *schema, row, true); break;
          case Payload::kFull: AppendRowObject(m.payload, *schema, row, false); break;
          case Payload::kDiff:
            AppendDiff(m.payload, *schema, op == Op::kInsert ? nullptr : (old_row ? old_row : &row),
                       op == Op::kDelete ? nullptr : &row);
            break;
        }
        out.push_back({route.topic, std::move(m), shard});
      }
    }
  }
  if (shard_of_) {
    // Offsets are the topic's leader's to hand out, when the records reach it.
    for (Pending& p : out) {
      OutboxRecord record;
      record.seq = context.NextSeq();
      record.topic_num = p.topic->topic_num;
      record.message = std::move(p.message);
      context.PutUnread(store::Family::kTopics, OutboxKey(p.shard, record.seq), EncodeOutboxValue(record));
    }
    group_records_ += out.size();
    return Status::Ok();
  }
  // Offsets only once nothing can fail: a failed statement hands out none.
  for (Pending& p : out) {
    p.message.offset = log_.Assign(p.topic->topic_num, p.message.partition);
    context.PutUnread(store::Family::kTopics,
                      MessageKey(p.topic->topic_num, p.message.partition, p.message.offset),
                      EncodeMessage(p.message));
  }
  if (!out.empty()) {
    for (const auto& [key, next] : log_.PendingNext()) {
      context.PutUnread(store::Family::kTopics, TopicLog::NextOffsetKey(key.first, key.second),
                        TopicLog::OffsetValue(next));
    }
  }
  return Status::Ok();
}

void TopicRouter::OnGroupEnd(bool written) {
  log_.EndGroup(written);
  if (TopicOutbox* outbox = outbox_.load(); written && outbox != nullptr) outbox->Committed(group_records_);
  group_records_ = 0;
}

}  // namespace kalam::topics
