// The shard log's entries: what is encoded decodes the same; bytes that are not an entry
// (cut short anywhere, random) are refused, never read past; rows map to shards by user or
// by SHARED table.
#include "cluster/shard_entry.h"

#include <gtest/gtest.h>

#include <random>

#include "store/row_codec.h"

namespace kalam::cluster {
namespace {

store::Cell RandomCell(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0:
      return std::monostate{};
    case 1:
      return static_cast<int64_t>(rng());
    case 2:
      return static_cast<double>(rng() % 100000) / 7.0;
    case 3:
      return std::string(rng() % 20, static_cast<char>('a' + rng() % 26));
    default:
      return store::Int128{rng(), static_cast<int64_t>(rng())};
  }
}

ShardLogEntry RandomEntry(std::mt19937_64& rng) {
  ShardLogEntry e;
  e.last_seq = static_cast<int64_t>(rng() >> 1);
  const int ops = static_cast<int>(rng() % 6);
  for (int i = 0; i < ops; ++i) {
    const auto family = static_cast<store::Family>(rng() % 5);
    std::string key(1 + rng() % 30, static_cast<char>(rng()));
    switch (rng() % 3) {
      case 0:
        e.changes.Put(family, key, std::string(rng() % 40, '\0'));
        break;
      case 1:
        e.changes.Delete(family, key);
        break;
      default:
        e.changes.DeleteRange(family, key, key + "\xff");
    }
  }
  const int events = static_cast<int>(rng() % 4);
  for (int i = 0; i < events; ++i) {
    store::ChangeEvent ev;
    ev.table_id = "app:t" + std::to_string(rng() % 10);
    ev.scope = rng() % 2 ? "u" + std::to_string(rng() % 100) : "";
    ev.kind = static_cast<store::ChangeEvent::Kind>(rng() % 3);
    ev.schema_version = static_cast<uint32_t>(rng() % 5);
    for (int r = 0; r < static_cast<int>(rng() % 3); ++r) {
      store::RowImage row;
      row.seq = static_cast<int64_t>(rng() >> 2);
      for (int c = 0; c < static_cast<int>(rng() % 5); ++c) row.cells.push_back(RandomCell(rng));
      ev.rows.push_back(row);
      if (ev.kind == store::ChangeEvent::Kind::kUpdate) ev.old_rows.push_back(row);
    }
    e.events.push_back(std::move(ev));
  }
  return e;
}

void ExpectSame(const ShardLogEntry& a, const ShardLogEntry& b) {
  EXPECT_EQ(a.last_seq, b.last_seq);
  ASSERT_EQ(a.changes.size(), b.changes.size());
  for (size_t i = 0; i < a.changes.size(); ++i) {
    const auto& x = a.changes.ops()[i];
    const auto& y = b.changes.ops()[i];
    EXPECT_EQ(x.family, y.family);
    EXPECT_EQ(x.key, y.key);
    EXPECT_EQ(x.value, y.value);
    EXPECT_EQ(x.range_end, y.range_end);
  }
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    const auto& x = a.events[i];
    const auto& y = b.events[i];
    EXPECT_EQ(x.table_id, y.table_id);
    EXPECT_EQ(x.scope, y.scope);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.schema_version, y.schema_version);
    ASSERT_EQ(x.rows.size(), y.rows.size());
    for (size_t r = 0; r < x.rows.size(); ++r) {
      EXPECT_EQ(x.rows[r].seq, y.rows[r].seq);
      EXPECT_EQ(x.rows[r].cells, y.rows[r].cells);
    }
    EXPECT_EQ(x.old_rows.size(), y.old_rows.size());
  }
}

TEST(ShardLogEntry, RandomEntriesRoundTrip) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    const ShardLogEntry e = RandomEntry(rng);
    auto back = DecodeShardLogEntry(EncodeShardLogEntry(e));
    ASSERT_TRUE(back.ok()) << back.status().message();
    ExpectSame(e, *back);
  }
}

TEST(ShardLogEntry, CutShortOrJunkIsRefused) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 50; ++i) {
    const std::string bytes = EncodeShardLogEntry(RandomEntry(rng));
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      EXPECT_FALSE(DecodeShardLogEntry(std::string_view(bytes).substr(0, cut)).ok()) << cut;
    }
    EXPECT_FALSE(DecodeShardLogEntry(bytes + "x").ok());
  }
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (!junk.empty() && rng() % 2) junk[0] = 1;  // past the format byte, now and then
    (void)DecodeShardLogEntry(junk);  // refused or read, never past its end (ASan builds check)
  }
  // A count far past what the bytes hold is refused without allocating it.
  std::string huge("\x01", 1);
  huge += std::string(8, '\0') + std::string("\xff\xff\xff\x7f", 4);
  EXPECT_FALSE(DecodeShardLogEntry(huge).ok());
}

TEST(UserRows, RoundTripAndRefuseWhatIsCutShort) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 200; ++i) {
    UserRows rows;
    for (uint64_t n = rng() % 20; n > 0; --n) {
      rows.rows.emplace_back(std::string(rng() % 30, static_cast<char>(rng())), std::string(rng() % 50, '\0'));
    }
    for (uint64_t n = rng() % 5; n > 0; --n) rows.cold_users.push_back("user-" + std::to_string(rng() % 100));
    const std::string bytes = EncodeUserRows(rows);
    auto back = DecodeUserRows(bytes);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->rows, rows.rows);
    EXPECT_EQ(back->cold_users, rows.cold_users);
    for (size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 40) {
      EXPECT_FALSE(DecodeUserRows(std::string_view(bytes).substr(0, cut)).ok()) << cut;
    }
    EXPECT_FALSE(DecodeUserRows(bytes + "x").ok());
  }
  std::string huge("\x01\xff\xff\xff\x7f", 5);  // more rows than the bytes could hold
  EXPECT_FALSE(DecodeUserRows(huge).ok());
}

TEST(ShardLogEntry, RowsGoToTheirUsersShardOrTheirTablesShard) {
  const int32_t shards = 32;
  std::string user_row = store::ScopePrefix(42, "alice");
  store::AppendKeyCell(user_row, ColumnType::kBigInt, store::Cell(int64_t{7}));
  EXPECT_EQ(ShardOfRowKey(user_row, shards), ShardOfUser("alice", shards));
  EXPECT_EQ(ShardOfRowKey(store::MarkerKey(user_row), shards), ShardOfUser("alice", shards));
  std::string shared_row = store::ScopePrefix(42, "");
  store::AppendKeyCell(shared_row, ColumnType::kBigInt, store::Cell(int64_t{7}));
  EXPECT_EQ(ShardOfRowKey(shared_row, shards), ShardOfTable(42, shards));
  EXPECT_EQ(ShardOfRowKey(store::MarkerKey(shared_row), shards), ShardOfTable(42, shards));
  EXPECT_EQ(ShardOfRowKey("short", shards), std::nullopt);
  // Users spread over the shards.
  std::vector<int> per_shard(shards);
  for (int u = 0; u < 3200; ++u) ++per_shard[ShardOfUser("user-" + std::to_string(u), shards)];
  for (int n : per_shard) EXPECT_GT(n, 50);
}

}  // namespace
}  // namespace kalam::cluster
