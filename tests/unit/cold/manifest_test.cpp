// manifest.json: what ColdStore::Commit writes, a fresh ColdStore (nothing cached) reads
// back; an unreadable manifest reads as damaged instead of taking the server down.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "cold/cold_store.h"
#include "cold_test_helpers.h"

namespace kalam::cold {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

Segment MakeSegment(int n, bool overlaps) {
  Segment s;
  s.file = "batch-" + std::to_string(n) + ".parquet";
  s.rows = 100 * n + 1;
  s.min_seq = (int64_t{1} << 40) + n;
  s.max_seq = (int64_t{1} << 62) + n;
  s.schema_version = static_cast<uint32_t>(n);
  s.columns = {{1, "id"}, {2, "name with \"quotes\""}, {7, "ünïcode"}};
  s.stats_json = R"({"id":{"min":")" + std::to_string(n) + R"(","max":"99","nulls":0},)"
                 R"("ünïcode":{"min":null,"max":null,"nulls":5}})";
  s.bytes = 4096 * n;
  s.overlaps_earlier = overlaps;
  return s;
}

Manifest MakeManifest() {
  Manifest m;
  m.next_batch = 4;
  m.segments = {MakeSegment(1, true), MakeSegment(2, false), MakeSegment(3, true)};
  return m;
}

void ExpectSameManifest(const Manifest& read, const Manifest& written) {
  EXPECT_EQ(read.next_batch, written.next_batch);
  ASSERT_EQ(read.segments.size(), written.segments.size());
  for (size_t i = 0; i < read.segments.size(); ++i) {
    const Segment& r = read.segments[i];
    const Segment& w = written.segments[i];
    EXPECT_EQ(r.file, w.file);
    EXPECT_EQ(r.rows, w.rows);
    EXPECT_EQ(r.min_seq, w.min_seq);
    EXPECT_EQ(r.max_seq, w.max_seq);
    EXPECT_EQ(r.schema_version, w.schema_version);
    EXPECT_EQ(r.columns, w.columns);
    EXPECT_EQ(r.bytes, w.bytes);
    EXPECT_EQ(r.overlaps_earlier, w.overlaps_earlier) << r.file;
    // The statistics as the readers see them (the JSON text itself may be re-spaced).
    EXPECT_EQ(r.ColumnRange("id"), w.ColumnRange("id"));
    EXPECT_EQ(r.ColumnRange("ünïcode"), std::nullopt);
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

TEST(ManifestTest, CommitThenReadBackFromDisk) {
  TempDir dir;
  const Manifest written = MakeManifest();
  {
    ColdStore store;
    ASSERT_TRUE(store.Commit(dir.path(), written).ok());
    ExpectSameManifest(*store.Get(dir.path()), written);
  }
  EXPECT_TRUE(fs::exists(fs::path(dir.path()) / "manifest.json"));
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "manifest.json.tmp"));
  ColdStore fresh;
  ExpectSameManifest(*fresh.Get(dir.path()), written);
  EXPECT_EQ(fresh.Get(dir.path())->segments[0].ColumnRange("id"),
            std::make_pair(std::string("1"), std::string("99")));
}

TEST(ManifestTest, NoManifestIsAnEmptyOne) {
  TempDir dir;
  ColdStore store;
  const auto manifest = store.Get(dir.path());
  EXPECT_EQ(manifest->next_batch, 1u);
  EXPECT_TRUE(manifest->segments.empty());
}

TEST(ManifestTest, ManifestsWithoutOverlapFlagCountAsOverlapping) {
  // Manifests written before the flag existed: unknown means a merge is needed.
  TempDir dir;
  WriteFile(fs::path(dir.path()) / "manifest.json",
            R"({"next_batch":2,"segments":[{"file":"batch-1.parquet","rows":1,"min_seq":1,)"
            R"("max_seq":1,"schema_version":1,"columns":[],"stats":{},"bytes":1}]})");
  ColdStore store;
  const auto manifest = store.Get(dir.path());
  ASSERT_EQ(manifest->segments.size(), 1u);
  EXPECT_TRUE(manifest->segments[0].overlaps_earlier);
}

TEST(ManifestTest, CommitReplacesTheCachedManifestAndForgetRereads) {
  TempDir dir;
  ColdStore store;
  EXPECT_TRUE(store.Get(dir.path())->segments.empty());  // cached as empty
  Manifest written = MakeManifest();
  ASSERT_TRUE(store.Commit(dir.path(), written).ok());
  ExpectSameManifest(*store.Get(dir.path()), written);

  // Changed behind the store's back: the cache answers until the table is forgotten.
  Manifest other;
  other.next_batch = 9;
  {
    ColdStore writer;
    ASSERT_TRUE(writer.Commit(dir.path(), other).ok());
  }
  EXPECT_EQ(store.Get(dir.path())->next_batch, written.next_batch);
  store.Forget(dir.path());
  EXPECT_EQ(store.Get(dir.path())->next_batch, 9u);
}

// Cut short, not JSON, the wrong shape or the wrong types: each reads as a damaged manifest
// without segments (and is logged), never as an exception out of Get.
TEST(ManifestTest, CorruptManifestsReadAsDamaged) {
  TempDir dir;
  {
    ColdStore store;
    ASSERT_TRUE(store.Commit(dir.path(), MakeManifest()).ok());
  }
  const fs::path path = fs::path(dir.path()) / "manifest.json";
  const std::string valid = ReadFile(path);
  ASSERT_GT(valid.size(), 100u);

  std::vector<std::string> corrupt;
  for (size_t n = 0; n < valid.size(); n += 7) corrupt.push_back(valid.substr(0, n));
  corrupt.push_back(valid.substr(0, valid.size() - 1));
  corrupt.push_back(std::string("\0\0\0\0", 4));
  corrupt.push_back("not json");
  corrupt.push_back("[]");
  corrupt.push_back("null");
  corrupt.push_back(R"({"next_batch":1})");
  corrupt.push_back(R"({"next_batch":-1,"segments":[]})");
  corrupt.push_back(R"({"next_batch":"2","segments":[]})");
  corrupt.push_back(R"({"next_batch":2,"segments":{}})");
  corrupt.push_back(R"({"next_batch":2,"segments":[{"file":"batch-1.parquet"}]})");
  corrupt.push_back(R"({"next_batch":2,"segments":[{"file":7,"rows":1,"min_seq":1,"max_seq":1,)"
                    R"("schema_version":1,"columns":[],"stats":{},"bytes":1}]})");
  corrupt.push_back(R"({"next_batch":2,"segments":[{"file":"f","rows":1.5,"min_seq":1,)"
                    R"("max_seq":1,"schema_version":1,"columns":[],"stats":{},"bytes":1}]})");
  corrupt.push_back(R"({"next_batch":2,"segments":[{"file":"f","rows":1,"min_seq":1,)"
                    R"("max_seq":1,"schema_version":-3,"columns":[{"id":"x"}],"stats":{},"bytes":1}]})");
  // Statistics with a number no double holds: read as infinity, they could not be written
  // back, and the scope's next commit would fail.
  corrupt.push_back(R"({"next_batch":2,"segments":[{"file":"f","rows":1,"min_seq":1,"max_seq":1,)"
                    R"("schema_version":1,"columns":[],"stats":{"x":{"nulls":1e999}},"bytes":1}]})");

  for (const std::string& text : corrupt) {
    WriteFile(path, text);
    ColdStore store;
    std::shared_ptr<const Manifest> manifest;
    ASSERT_NO_THROW(manifest = store.Get(dir.path())) << text;
    ASSERT_NE(manifest, nullptr);
    EXPECT_TRUE(manifest->segments.empty()) << text;
    EXPECT_TRUE(manifest->damaged) << text;
    EXPECT_FALSE(manifest->CheckReadable(dir.path()).ok()) << text;
  }
}

// A damaged manifest lists nothing, so every segment beside it would look like an orphan:
// start-up must keep them all.
TEST(ManifestTest, RemoveOrphansKeepsEveryFileBesideADamagedManifest) {
  TempDir dir;
  const fs::path scope = fs::path(dir.path()) / "ns" / "t" / "t9";
  fs::create_directories(scope);
  WriteFile(scope / "manifest.json", "{\"next_batch\":3,\"segm");
  for (const char* name : {"batch-1.parquet", "batch-2.parquet"}) WriteFile(scope / name, "data");
  ColdStore store;
  ASSERT_TRUE(store.RemoveOrphans(dir.path()).ok());
  EXPECT_TRUE(fs::exists(scope / "batch-1.parquet"));
  EXPECT_TRUE(fs::exists(scope / "batch-2.parquet"));
}

TEST(ManifestTest, ColumnRangeNeedsTextMinAndMax) {
  Segment s;
  s.stats_json = R"({"a":{"min":"1","max":"2"},"b":{"min":null,"max":null},"c":{"min":1,"max":2},)"
                 R"("d":{"min":"1"},"e":7})";
  EXPECT_EQ(s.ColumnRange("a"), std::make_pair(std::string("1"), std::string("2")));
  EXPECT_EQ(s.ColumnRange("b"), std::nullopt);  // all NULL
  EXPECT_EQ(s.ColumnRange("c"), std::nullopt);
  EXPECT_EQ(s.ColumnRange("d"), std::nullopt);
  EXPECT_EQ(s.ColumnRange("e"), std::nullopt);
  EXPECT_EQ(s.ColumnRange("missing"), std::nullopt);
  s.stats_json = "{\"a\":";  // cut short
  EXPECT_EQ(s.ColumnRange("a"), std::nullopt);
  s.stats_json = "[1]";
  EXPECT_EQ(s.ColumnRange("a"), std::nullopt);
}

TEST(ManifestTest, RemoveOrphansKeepsListedSegmentsOnly) {
  TempDir dir;
  const fs::path scope = fs::path(dir.path()) / "ns" / "t" / "t9";
  fs::create_directories(scope);
  Manifest m;
  m.next_batch = 3;
  m.segments = {MakeSegment(1, true)};
  ColdStore store;
  ASSERT_TRUE(store.Commit(scope.string(), m).ok());
  for (const char* name : {"batch-1.parquet", "batch-2.parquet", "other.parquet", "x.tmp"}) {
    WriteFile(scope / name, "data");
  }
  ASSERT_TRUE(store.RemoveOrphans(dir.path()).ok());
  EXPECT_TRUE(fs::exists(scope / "batch-1.parquet"));    // listed
  EXPECT_FALSE(fs::exists(scope / "batch-2.parquet"));   // written, never committed
  EXPECT_TRUE(fs::exists(scope / "other.parquet"));      // not a segment name
  EXPECT_FALSE(fs::exists(scope / "x.tmp"));
  EXPECT_TRUE(fs::exists(scope / "manifest.json"));
}

TEST(ManifestTest, RemoveOrphansLeavesYoungFilesToOtherWriters) {
  TempDir dir;
  const fs::path scope = fs::path(dir.path()) / "t9";
  fs::create_directories(scope);
  ColdStore store;
  ASSERT_TRUE(store.Commit(scope.string(), Manifest{}).ok());
  WriteFile(scope / "batch-1.parquet", "data");  // another node's, not committed yet
  WriteFile(scope / "batch-2.parquet", "data");
  fs::last_write_time(scope / "batch-2.parquet", fs::file_time_type::clock::now() - std::chrono::hours(2));
  ASSERT_TRUE(store.RemoveOrphans(dir.path(), std::chrono::hours(1)).ok());
  EXPECT_TRUE(fs::exists(scope / "batch-1.parquet"));
  EXPECT_FALSE(fs::exists(scope / "batch-2.parquet"));
}

// Two writers of one scope (two nodes on shared storage) each name their segment after
// the manifest they read: the second to create a name fails, and nothing of it stays.
TEST(ManifestTest, ASegmentNameIsCreatedOnce) {
  TempDir dir;
  const std::string path = (fs::path(dir.path()) / "batch-1.parquet").string();
  auto write = [](const std::string& text) {
    return [text](const std::string& tmp) {
      std::ofstream(tmp) << text;
      return Status::Ok();
    };
  };
  ASSERT_TRUE(WriteSegmentFile(path, write("first")).ok());
  const Status second = WriteSegmentFile(path, write("second"));
  EXPECT_EQ(second.code(), Code::kTransactionConflict) << second.message();
  std::ifstream in(path);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "first");
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "no temporary file is left";
  // A failed write leaves nothing either.
  const std::string other = (fs::path(dir.path()) / "batch-2.parquet").string();
  EXPECT_FALSE(WriteSegmentFile(other, [](const std::string& tmp) {
                 std::ofstream(tmp) << "part";
                 return Status(Code::kInternalError, "failed");
               }).ok());
  EXPECT_FALSE(fs::exists(other));
}

// A shared store: GetFresh reads what another writer committed; Get notices it once its
// copy is a second old; Invalidate drops the copy at once and counts a change.
TEST(ManifestTest, ASharedStoreSeesAnotherWritersCommits) {
  TempDir dir;
  const std::string scope = (fs::path(dir.path()) / "t3").string();
  fs::create_directories(scope);
  ColdStore here, there;
  here.SetShared(true);
  ASSERT_TRUE(here.Commit(scope, Manifest{}).ok());
  EXPECT_TRUE(here.Get(scope)->segments.empty());
  Manifest next;
  next.next_batch = 2;
  next.segments = {MakeSegment(1, false)};
  ASSERT_TRUE(there.Commit(scope, next).ok());
  EXPECT_TRUE(here.Get(scope)->segments.empty()) << "the cached copy serves within a second";
  EXPECT_EQ(here.GetFresh(scope)->segments.size(), 1u);

  Manifest third = next;
  third.next_batch = 3;
  third.segments.push_back(MakeSegment(2, true));
  ASSERT_TRUE(there.Commit(scope, third).ok());
  const uint64_t before = here.Generation();
  here.Invalidate(scope);
  EXPECT_EQ(here.Generation(), before + 1);
  EXPECT_EQ(here.Get(scope)->segments.size(), 2u);

  third.segments.pop_back();
  third.next_batch = 4;
  ASSERT_TRUE(there.Commit(scope, third).ok());
  EXPECT_EQ(here.Get(scope)->segments.size(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the copy's age, not a wait for an outcome
  EXPECT_EQ(here.Get(scope)->segments.size(), 1u) << "a second-old copy is checked against its file";
  EXPECT_EQ(here.Get(scope)->next_batch, 4u);
}

}  // namespace
}  // namespace kalam::cold
