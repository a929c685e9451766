// What a shard's Raft log carries (cluster mode): one entry per shard per commit group —
// the group's changes to the shard's rows, the change events live queries get from them,
// and the group's last _seq — in a compact binary form every replica decodes the same.
// Also which shard a row belongs to: its user's (USER and STREAM tables, by the scope in
// its key), or its table's (SHARED tables).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/committer.h"
#include "store/kv_store.h"

namespace kalam::cluster {

struct ShardLogEntry {
  int64_t last_seq = 0;
  store::WriteSet changes;
  std::vector<store::ChangeEvent> events;
};

std::string EncodeShardLogEntry(const ShardLogEntry& entry);
// INTERNAL_ERROR for bytes that are not an entry (cut short, unknown tags, trailing bytes).
Result<ShardLogEntry> DecodeShardLogEntry(std::string_view bytes);

// What a node sends another for a read of every user's rows of a table: the rows of the
// users of the shards asked for, as its store holds them — (key, value), tombstones
// included — and which of those users have flushed rows (markers).
struct UserRows {
  std::vector<std::pair<std::string, std::string>> rows;
  std::vector<std::string> cold_users;
};
std::string EncodeUserRows(const UserRows& rows);
// INTERNAL_ERROR for bytes that are not UserRows.
Result<UserRows> DecodeUserRows(std::string_view bytes);

// The shard of a row key (or a flushed row's marker) of the hot or stream family, among
// shards; nullopt for a key that is not a row's.
std::optional<int32_t> ShardOfRowKey(std::string_view key, int32_t shards);
// The shard of a user's rows, and of a SHARED table's.
int32_t ShardOfUser(std::string_view user_id, int32_t shards);
int32_t ShardOfTable(uint64_t table_num, int32_t shards);

}  // namespace kalam::cluster
