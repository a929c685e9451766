// cold::PointCache: admission on the second miss, the byte budget, least recently used out.
#include "cold/point_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace kalam::cold {
namespace {

// rows rows keyed "k<i>" (added in reverse order) whose encoded row is text + i.
std::shared_ptr<const DecodedRowGroup> Group(int rows, const std::string& text) {
  auto group = std::make_shared<DecodedRowGroup>();
  for (int i = rows - 1; i >= 0; --i) group->Add("k" + std::to_string(i), text + std::to_string(i));
  group->Seal();
  return group;
}

TEST(DecodedRowGroup, FindsEveryKeyAndNoOther) {
  auto group = Group(1000, "row");
  EXPECT_EQ(group->rows(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    auto row = group->Find("k" + std::to_string(i));
    ASSERT_TRUE(row.has_value()) << i;
    EXPECT_EQ(*row, "row" + std::to_string(i));
  }
  for (const char* absent : {"", "k", "k1000", "k-1", "j5", "k5 "}) EXPECT_FALSE(group->Find(absent)) << absent;
  EXPECT_FALSE(DecodedRowGroup().Find("k1"));
  // Keys with zero bytes and prefixes of each other (the row codec's key encodings).
  DecodedRowGroup binary;
  binary.Add(std::string("\0\1", 2), "a");
  binary.Add(std::string("\0", 1), "b");
  binary.Add(std::string("\0\1\0", 3), "c");
  binary.Seal();
  EXPECT_EQ(binary.Find(std::string("\0", 1)), "b");
  EXPECT_EQ(binary.Find(std::string("\0\1", 2)), "a");
  EXPECT_EQ(binary.Find(std::string("\0\1\0", 3)), "c");
  EXPECT_FALSE(binary.Find(std::string("\1", 1)));
}

TEST(PointCache, DecodesOnlyOnTheSecondMiss) {
  PointCache cache(1 << 20);
  const std::string a = PointCache::Name("/d/batch-1.parquet", 0, 1);
  EXPECT_EQ(cache.Find(a), nullptr);
  EXPECT_FALSE(cache.Admit(a));
  EXPECT_EQ(cache.Find(a), nullptr);
  EXPECT_TRUE(cache.Admit(a));
  cache.Put(a, Group(10, "x"));
  auto found = cache.Find(a);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->Find("k3"), "x3");
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.decoded, 1u);
  EXPECT_EQ(stats.groups, 1u);
  EXPECT_EQ(stats.bytes, found->bytes() + 64 + a.size());
  // Another schema version or row group is another entry.
  EXPECT_EQ(cache.Find(PointCache::Name("/d/batch-1.parquet", 0, 2)), nullptr);
  EXPECT_EQ(cache.Find(PointCache::Name("/d/batch-1.parquet", 1, 1)), nullptr);
}

TEST(PointCache, StaysWithinItsBudgetLeastRecentlyUsedFirstOut) {
  const auto one = Group(100, std::string(100, 'v'));
  EXPECT_GT(one->bytes(), 100u * 100);
  const size_t budget = (one->bytes() + 200) * 3;  // three groups and their names
  PointCache cache(budget);
  for (int g = 0; g < 3; ++g) cache.Put(PointCache::Name("f", g, 1), Group(100, std::string(100, 'v')));
  EXPECT_EQ(cache.stats().groups, 3u);
  ASSERT_NE(cache.Find(PointCache::Name("f", 0, 1)), nullptr);  // 0 is now the most recent
  cache.Put(PointCache::Name("f", 3, 1), Group(100, std::string(100, 'v')));
  EXPECT_LE(cache.stats().bytes, budget);
  EXPECT_EQ(cache.Find(PointCache::Name("f", 1, 1)), nullptr);  // the least recent went
  EXPECT_NE(cache.Find(PointCache::Name("f", 0, 1)), nullptr);
  EXPECT_NE(cache.Find(PointCache::Name("f", 3, 1)), nullptr);

  // A group larger than the whole budget is not kept, and evicts nothing.
  cache.Put(PointCache::Name("f", 9, 1), Group(2000, std::string(100, 'v')));
  EXPECT_EQ(cache.Find(PointCache::Name("f", 9, 1)), nullptr);
  EXPECT_NE(cache.Find(PointCache::Name("f", 0, 1)), nullptr);

  // Layouts share the budget and the order.
  auto layout = std::make_shared<SegmentLayout>();
  layout->key_ranges.push_back(std::make_pair(duckdb::Value::BIGINT(1), duckdb::Value::BIGINT(9)));
  layout->key_ranges.push_back(std::nullopt);
  cache.PutLayout("f", layout);
  auto back = cache.FindLayout("f");
  ASSERT_NE(back, nullptr);
  ASSERT_EQ(back->key_ranges.size(), 2u);
  EXPECT_EQ(back->key_ranges[0]->second, duckdb::Value::BIGINT(9));
  EXPECT_FALSE(back->key_ranges[1].has_value());
  EXPECT_EQ(cache.FindLayout("g"), nullptr);
  EXPECT_LE(cache.stats().bytes, budget);
}

TEST(PointCache, ReplacingAnEntryCountsItsBytesOnce) {
  PointCache cache(1 << 20);
  const std::string name = PointCache::Name("f", 0, 1);
  cache.Put(name, Group(10, "a"));
  const size_t once = cache.stats().bytes;
  cache.Put(name, Group(10, "a"));
  EXPECT_EQ(cache.stats().bytes, once);
  EXPECT_EQ(cache.stats().groups, 1u);
}

}  // namespace
}  // namespace kalam::cold
