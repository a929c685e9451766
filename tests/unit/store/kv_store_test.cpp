// The store against a model: hot keys written mostly in order per table (the memtable's
// insert hints), with deletes, flush markers and whole-table range deletes between them,
// read back before and after a reopen (which replays the write-ahead log into memtables).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>

#include "../temp_dir.h"
#include "store/kv_store.h"
#include "store/row_codec.h"

namespace kalam::store {
namespace {

using kalam::testing::TempDir;

std::string RowKey(uint64_t table, int64_t id) {
  std::string key = ScopePrefix(table, "");
  AppendKeyCell(key, ColumnType::kBigInt, Cell(id));
  return key;
}

using Model = std::map<std::string, std::string>;

void ExpectSame(KvStore& store, const Model& model) {
  Model seen;
  ASSERT_TRUE(store
                  .Scan(Family::kHot, "",
                        [&](std::string_view key, std::string_view value) {
                          seen.emplace(std::string(key), std::string(value));
                          return true;
                        })
                  .ok());
  EXPECT_EQ(seen.size(), model.size());
  EXPECT_TRUE(seen == model);
  for (const auto& [key, value] : model) {
    auto got = store.Get(Family::kHot, key);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value()) << "a key went missing";
    EXPECT_EQ(**got, value);
  }
}

TEST(KvStoreTest, InOrderWritesRangeDeletesAndAReopenKeepTheModel) {
  TempDir dir;
  const std::string path = dir.path() + "/rocksdb";
  Model model;
  std::mt19937_64 random(7);
  {
    auto opened = KvStore::Open(path, /*sync=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    KvStore& store = **opened;
    int64_t next_id[4] = {0, 0, 0, 0};
    for (int round = 0; round < 60; ++round) {
      WriteSet changes;
      const uint64_t table = 1 + random() % 4;
      switch (random() % 6) {
        case 0: {  // drop the table: its rows and its markers, as DROP TABLE does
          changes.DeleteRange(Family::kHot, TablePrefix(table), TablePrefix(table + 1));
          changes.DeleteRange(Family::kHot, MarkerTablePrefix(table), MarkerTablePrefix(table + 1));
          for (auto it = model.begin(); it != model.end();) {
            const bool of_table = it->first.compare(0, 8, TablePrefix(table)) == 0 ||
                                  it->first.compare(0, 8, MarkerTablePrefix(table)) == 0;
            it = of_table ? model.erase(it) : std::next(it);
          }
          break;
        }
        case 1: {  // a flush: rows become markers, in order
          for (auto it = model.lower_bound(TablePrefix(table));
               it != model.end() && it->first.compare(0, 8, TablePrefix(table)) == 0;) {
            const std::string key = it->first;
            it = model.erase(it);
            changes.Delete(Family::kHot, key);
            changes.Put(Family::kHot, MarkerKey(key), "");
            model[MarkerKey(key)] = "";
          }
          break;
        }
        default: {  // rising ids, now and then an older one again or a delete
          for (int i = 0; i < 300; ++i) {
            int64_t id = next_id[table - 1]++;
            if (random() % 10 == 0 && id > 0) id = static_cast<int64_t>(random() % id);
            const std::string key = RowKey(table, id);
            if (random() % 20 == 0) {
              changes.Delete(Family::kHot, key);
              model.erase(key);
            } else {
              const std::string value = "v" + std::to_string(round) + "-" + std::to_string(i);
              changes.Put(Family::kHot, key, value);
              model[key] = value;
            }
          }
        }
      }
      ASSERT_TRUE(store.Write(changes).ok());
    }
    ExpectSame(store, model);
    // Closing flushes the memtables; the log replay below needs writes after that.
    WriteSet last;
    last.DeleteRange(Family::kHot, TablePrefix(2), TablePrefix(3));
    for (int64_t id = 0; id < 500; ++id) last.Put(Family::kHot, RowKey(2, id), "again");
    for (auto it = model.begin(); it != model.end();) {
      it = it->first.compare(0, 8, TablePrefix(2)) == 0 ? model.erase(it) : std::next(it);
    }
    for (int64_t id = 0; id < 500; ++id) model[RowKey(2, id)] = "again";
    ASSERT_TRUE(store.Write(last).ok());
    ExpectSame(store, model);
  }
  auto reopened = KvStore::Open(path, /*sync=*/false);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  ExpectSame(**reopened, model);
}

TEST(KvStoreTest, AHotRangeDeleteMustStartAtATablePrefix) {
  TempDir dir;
  auto opened = KvStore::Open(dir.path() + "/rocksdb", /*sync=*/false);
  ASSERT_TRUE(opened.ok());
  WriteSet put;
  put.Put(Family::kHot, RowKey(1, 5), "kept");
  ASSERT_TRUE((*opened)->Write(put).ok());
  WriteSet changes;
  changes.Put(Family::kHot, RowKey(1, 6), "not written");
  changes.DeleteRange(Family::kHot, ScopePrefix(1, "u1"), ScopePrefix(1, "u2"));
  const Status refused = (*opened)->Write(changes);
  EXPECT_EQ(refused.code(), Code::kInternalError);
  // Nothing of the refused write landed.
  auto got = (*opened)->Get(Family::kHot, RowKey(1, 6));
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  // Other families take range deletes from anywhere (a STREAM table's scope).
  WriteSet stream;
  stream.DeleteRange(Family::kStream, ScopePrefix(1, "u1"), ScopePrefix(1, "u2"));
  EXPECT_TRUE((*opened)->Write(stream).ok());
}

}  // namespace
}  // namespace kalam::store
