// Cold storage: flush to Parquet with manifests, merged reads, jobs, crashes.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string Rows(const SqlResponse& r) { return json::serialize(r.rows()); }
std::string Basic(const std::string& user) { return client::BasicAuth(user, user + "-password"); }

// Flushes and returns "completed" when the flush job completed.
std::string FlushAndWait(client::HttpClient& http, const std::string& table) {
  const std::string result = RunJob(http, "FLUSH TABLE " + table);
  return result.find("rows_flushed") != std::string::npos ? "completed" : result;
}

std::string CompactAndWait(client::HttpClient& http, const std::string& table) {
  return RunJob(http, "STORAGE COMPACT TABLE " + table);
}

std::vector<std::string> ReadParquet(const std::string& sql) {
  FILE* p = popen((std::string(PARQUET_READER_BINARY) + " \"" + sql + "\" 2>&1").c_str(), "r");
  std::vector<std::string> lines;
  char line[65536];
  while (p != nullptr && fgets(line, sizeof(line), p) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    lines.push_back(s);
  }
  if (p != nullptr) pclose(p);
  return lines;
}

TEST(Cold, RowsStayRightAcrossFlushUpdateDeleteAndRestart) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE SHARED TABLE app.s (id BIGINT PRIMARY KEY, v TEXT, n INT); "
                                   "CREATE USER TABLE app.u (id BIGINT PRIMARY KEY, v TEXT)").status, 200);
  for (const char* user : {"ann", "ben", "cat"}) {
    ASSERT_EQ(Sql(http, RootAuth(), std::string("CREATE USER '") + user + "' WITH PASSWORD '" + user +
                                         "-password' ROLE user").status, 200);
    ASSERT_EQ(Sql(http, Basic(user), std::string("INSERT INTO app.u SELECT range, '") + user +
                                         "-' || range FROM range(20)").status, 200);
  }
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.s SELECT range, 'v' || range, range FROM range(100)").status, 200);
  const std::string before_s = Rows(Sql(http, RootAuth(), "SELECT id, v, n FROM app.s ORDER BY id"));

  EXPECT_EQ(FlushAndWait(http, "app.s"), "completed");
  EXPECT_EQ(FlushAndWait(http, "app.u"), "completed");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT id, v, n FROM app.s ORDER BY id")), before_s);
  EXPECT_EQ(Rows(Sql(http, Basic("ben"), "SELECT count(*), min(v), max(id) FROM app.u")), R"([[20,"ben-0",19]])");

  // Changes after the flush: hot versions win over cold ones.
  ASSERT_EQ(Sql(http, RootAuth(), "UPDATE app.s SET v = 'changed' WHERE id < 5; DELETE FROM app.s WHERE id >= 90; "
                                   "INSERT INTO app.s VALUES (1000, 'new', 0)").status, 200);
  ASSERT_EQ(Sql(http, Basic("ann"), "DELETE FROM app.u WHERE id % 2 = 0; UPDATE app.u SET v = 'x' WHERE id = 1").status, 200);
  auto duplicate = Sql(http, RootAuth(), "INSERT INTO app.s VALUES (50, 'again', 0)");
  EXPECT_EQ(duplicate.error_code(), "CONSTRAINT_VIOLATION");  // a flushed key still exists
  auto upsert = Sql(http, RootAuth(), "INSERT INTO app.s VALUES (51, 'up', 0) ON CONFLICT (id) DO UPDATE SET v = excluded.v || s.v");
  EXPECT_EQ(upsert.status, 200) << json::serialize(upsert.body);
  auto check = [&] {
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*), count(*) FILTER (WHERE v = 'changed') FROM app.s")), "[[91,5]]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT v FROM app.s WHERE id = 51")), R"([["upv51"]])");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT v FROM app.s WHERE id = 1000")), R"([["new"]])");
    EXPECT_EQ(Rows(Sql(http, Basic("ann"), "SELECT count(*), min(v) FROM app.u")), R"([[10,"ann-11"]])");
    EXPECT_EQ(Rows(Sql(http, Basic("ann"), "SELECT v FROM app.u WHERE id = 1")), R"([["x"]])");
    EXPECT_EQ(Rows(Sql(http, Basic("cat"), "SELECT count(*) FROM app.u")), "[[20]]");
  };
  check();
  EXPECT_EQ(FlushAndWait(http, "app.s"), "completed");  // a second segment, with tombstones
  EXPECT_EQ(FlushAndWait(http, "app.u"), "completed");
  check();
  auto stats = Sql(http, RootAuth(), "SHOW STATS FOR TABLE app.s");
  EXPECT_EQ(json::serialize(stats.rows()[0]), R"(["hot_rows","0"])");
  EXPECT_NE(json::serialize(stats.rows()[2]), R"(["cold_files","0"])");

  EXPECT_EQ(server.Stop(SIGTERM), 0);
  server.Start();
  http = server.Client();
  check();

  // The segments are plain Parquet: another process reads them.
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(server.data_dir() + "/storage/app/s")) {
    if (e.path().extension() == ".parquet") files.push_back(e.path().string());
  }
  ASSERT_EQ(files.size(), 2u);
  std::sort(files.begin(), files.end());
  auto lines = ReadParquet("SELECT id, v, n, _deleted FROM read_parquet('" + files[0] + "') WHERE id IN (0, 99) ORDER BY id");
  EXPECT_EQ(lines, (std::vector<std::string>{"[0,\"v0\",0,false]", "[99,\"v99\",99,false]"}));
  auto deletes = ReadParquet("SELECT count(*) FROM read_parquet('" + files[1] + "') WHERE _deleted");
  EXPECT_EQ(deletes, (std::vector<std::string>{"[10]"}));

  // DROP TABLE removes the files by a cleanup job.
  ASSERT_EQ(Sql(http, RootAuth(), "DROP TABLE app.s").status, 200);
  const std::string cleanup_jobs = "SELECT job_type, status FROM system.jobs WHERE job_type = 'cleanup'";
  WaitUntil([&] { return Rows(Sql(http, RootAuth(), cleanup_jobs)) == R"([["cleanup","completed"]])"; }, 10s);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), cleanup_jobs)), R"([["cleanup","completed"]])");
  EXPECT_FALSE(fs::exists(files[0]));
}

TEST(Cold, JobsAndFlushErrors) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE TABLE app.a (id INT PRIMARY KEY); "
                                   "CREATE TABLE app.b (id INT PRIMARY KEY); CREATE STREAM TABLE app.e (x TEXT); "
                                   "INSERT INTO app.a VALUES (1); INSERT INTO app.b VALUES (2)").status, 200);
  EXPECT_EQ(Sql(http, RootAuth(), "FLUSH TABLE app.e").error_code(), "INVALID_SQL");
  EXPECT_EQ(Sql(http, RootAuth(), "FLUSH TABLE app.none").error_code(), "NOT_FOUND");
  EXPECT_EQ(Sql(http, RootAuth(), "FLUSH NONSENSE").error_code(), "INVALID_SQL");
  auto all = Sql(http, RootAuth(), "FLUSH ALL TABLES IN app");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.rows().size(), 2u);  // a and b; the stream table is never flushed
  auto storage = Sql(http, RootAuth(), "STORAGE FLUSH TABLE app.a");
  EXPECT_EQ(storage.status, 200);
  const std::string completed = "SELECT count(*) FROM system.jobs WHERE job_type = 'flush' AND status = 'completed' "
                                "AND started_at >= created_at AND completed_at >= started_at";
  WaitUntil([&] { return Rows(Sql(http, RootAuth(), completed)) == "[[3]]"; }, 10s);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), completed)), "[[3]]");
  const std::string job(all.rows().at(0).at(0).as_string());
  EXPECT_EQ(Sql(http, RootAuth(), "KILL JOB '" + job + "'").error_code(), "INVALID_SQL");  // already ended
  EXPECT_EQ(Sql(http, RootAuth(), "KILL JOB 'job-none'").error_code(), "NOT_FOUND");
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE USER 'u1' WITH PASSWORD 'u1-password' ROLE user").status, 200);
  EXPECT_EQ(Sql(http, Basic("u1"), "FLUSH TABLE app.a").status, 403);
  EXPECT_EQ(Sql(http, Basic("u1"), "SELECT * FROM system.jobs").status, 403);
  // Job records survive a restart.
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  server.Start();
  http = server.Client();
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM system.jobs WHERE job_type = 'flush' AND status = 'completed'")), "[[3]]");
}

// SIGKILL at random moments while flushes run under concurrent writes: after each restart
// every acknowledged row is there exactly once, and no segment is outside a manifest.
TEST(Cold, CrashesDuringFlushLoseNothing) {
  ServerProcess server;
  server.Start();
  {
    auto http = server.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.log (id BIGINT PRIMARY KEY, v TEXT)").status, 200);
  }
  std::mt19937 random(42);
  std::set<int64_t> acknowledged;
  int64_t next_id = 0;
  for (int trial = 0; trial < 20; ++trial) {
    std::mutex mutex;
    std::atomic<bool> stop = false;
    std::thread writer([&] {
      auto http = server.Client();
      while (!stop) {
        int64_t id;
        {
          std::lock_guard lock(mutex);
          id = next_id++;
        }
        try {
          auto r = Sql(http, RootAuth(), "INSERT INTO app.log VALUES (" + std::to_string(id) + ", 'v')");
          if (r.status == 200) {
            std::lock_guard lock(mutex);
            acknowledged.insert(id);
          }
        } catch (const std::exception&) {
          return;
        }
      }
    });
    std::thread flusher([&] {
      auto http = server.Client();
      while (!stop) {
        try {
          Sql(http, RootAuth(), "FLUSH TABLE app.log");
        } catch (const std::exception&) {
          return;
        }
        std::this_thread::sleep_for(5ms);
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 200));
    server.Stop(SIGKILL);
    stop = true;
    writer.join();
    flusher.join();
    server.Start();
    auto http = server.Client();
    auto r = Sql(http, RootAuth(), "SELECT id FROM app.log");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    std::multiset<int64_t> present;
    for (const auto& row : r.rows()) present.insert(row.at(0).as_int64());
    for (int64_t id : acknowledged) ASSERT_EQ(present.count(id), 1u) << "trial " << trial << " id " << id;
    for (int64_t id : present) ASSERT_EQ(present.count(id), 1u) << "twice: " << id;
    // No segment outside its manifest, no temp file.
    for (const auto& e : fs::recursive_directory_iterator(server.data_dir() + "/storage")) {
      EXPECT_FALSE(e.path().string().ends_with(".tmp")) << e.path();
    }
  }
  EXPECT_GT(acknowledged.size(), 20u);
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(ColdPolicy, TablesFlushByThemselvesPerFlushPolicy) {
  ServerProcess server({"", "[flush]\ncheck_interval_secs = 1\n", {}, true, ""});
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE TABLE app.by_rows (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:5'); "
                                   "CREATE TABLE app.by_time (id INT PRIMARY KEY) FLUSH SECONDS 1; "
                                   "CREATE TABLE app.idle (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:1000'); "
                                   "INSERT INTO app.by_rows SELECT range FROM range(6); "
                                   "INSERT INTO app.by_time VALUES (1); INSERT INTO app.idle VALUES (1)").status, 200);
  auto cold_rows = [&](const std::string& table) {
    auto stats = Sql(http, RootAuth(), "SHOW STATS FOR TABLE app." + table);
    return std::string(stats.rows().at(1).at(1).as_string());
  };
  WaitUntil([&] { return cold_rows("by_rows") == "6" && cold_rows("by_time") == "1"; }, 10s);
  EXPECT_EQ(cold_rows("by_rows"), "6");
  EXPECT_EQ(cold_rows("by_time"), "1");
  EXPECT_EQ(cold_rows("idle"), "0");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.by_rows")), "[[6]]");
  auto jobs = Sql(http, RootAuth(), "SELECT count(*) FROM system.jobs WHERE job_type = 'flush' AND parameters LIKE '%automatic%'");
  EXPECT_EQ(Rows(jobs), "[[2]]");
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(ColdCompaction, MergesSegmentsAndDropsOldTombstones) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE TABLE app.short (id INT PRIMARY KEY, v TEXT) WITH (DELETED_RETENTION_HOURS = 0); "
                                   "CREATE TABLE app.long (id INT PRIMARY KEY, v TEXT); "
                                   "INSERT INTO app.short SELECT range, 'v' FROM range(10); "
                                   "INSERT INTO app.long SELECT range, 'v' FROM range(10)").status, 200);
  for (const char* t : {"app.short", "app.long"}) {
    EXPECT_EQ(FlushAndWait(http, t), "completed");
    ASSERT_EQ(Sql(http, RootAuth(), std::string("DELETE FROM ") + t + " WHERE id < 5; UPDATE " + t +
                                         " SET v = 'w' WHERE id = 9").status, 200);
    EXPECT_EQ(FlushAndWait(http, t), "completed");
  }
  const std::string short_result = CompactAndWait(http, "app.short");
  EXPECT_NE(short_result.find("\"rows_before\":16,\"rows_after\":5"), std::string::npos) << short_result;
  const std::string long_result = CompactAndWait(http, "app.long");
  EXPECT_NE(long_result.find("\"rows_before\":16,\"rows_after\":10"), std::string::npos) << long_result;
  for (const char* t : {"app.short", "app.long"}) {
    EXPECT_EQ(Rows(Sql(http, RootAuth(), std::string("SELECT count(*), max(v) FROM ") + t)), R"([[5,"w"]])") << t;
    auto stats = Sql(http, RootAuth(), std::string("SHOW STATS FOR TABLE ") + t);
    EXPECT_EQ(json::serialize(stats.rows()[2]), R"(["cold_files","1"])") << t;
  }
  EXPECT_EQ(Sql(http, RootAuth(), "INSERT INTO app.short VALUES (7, 'dup')").error_code(), "CONSTRAINT_VIOLATION");
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.short VALUES (1, 'back')").status, 200);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT v FROM app.short WHERE id = 1")), R"([["back"]])");
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(ColdJobs, JobCleanupRunsAndKillJobCancelsQueuedFlushes) {
  ServerProcess server({"", "[flush]\ncheck_interval_secs = 1\n", {}, true, ""});
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE TABLE app.big (id BIGINT PRIMARY KEY, v TEXT); "
                                   "INSERT INTO app.big SELECT range, repeat('x', 100) FROM range(200000)").status, 200);
  // Three flushes queue behind each other on the one worker: the last can be cancelled.
  std::vector<std::string> jobs;
  for (int i = 0; i < 3; ++i) {
    auto r = Sql(http, RootAuth(), "FLUSH TABLE app.big");
    jobs.emplace_back(r.rows().at(0).at(0).as_string());
  }
  auto killed = Sql(http, RootAuth(), "KILL JOB '" + jobs[2] + "'");
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Rows(Sql(http, RootAuth(),
                        "SELECT count(*) FROM system.jobs WHERE status IN ('queued', 'running')")) == "[[0]]";
      },
      60s));
  auto status = Sql(http, RootAuth(), "SELECT status FROM system.jobs WHERE job_id = '" + jobs[2] + "'");
  if (killed.status == 200) {
    EXPECT_EQ(Rows(status), R"([["cancelled"]])");
  } else {
    EXPECT_EQ(killed.error_code(), "INVALID_SQL");  // it had ended already
  }
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*), count(DISTINCT id) FROM app.big")), "[[200000,200000]]");
  // The scheduler's first round queues a job_cleanup job.
  WaitUntil(
      [&] {
        return Rows(Sql(http, RootAuth(), "SELECT status FROM system.jobs WHERE job_type = 'job_cleanup'")) ==
               R"([["completed"]])";
      },
      10s);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT status, result FROM system.jobs WHERE job_type = 'job_cleanup'")),
            R"([["completed","{\"records_removed\":0}"]])");
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(ColdSchema, SegmentsWrittenUnderOlderSchemasReadUnderTheCurrentOne) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE TABLE app.e (id INT PRIMARY KEY, a TEXT, b TEXT); "
                                   "INSERT INTO app.e VALUES (1, 'a1', 'b1'), (2, 'a2', 'b2')").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.e"), "completed");
  ASSERT_EQ(Sql(http, RootAuth(), "ALTER TABLE app.e ADD COLUMN c INT DEFAULT 7; ALTER TABLE app.e RENAME COLUMN a TO alpha; "
                                   "ALTER TABLE app.e DROP COLUMN b; INSERT INTO app.e (id, alpha, c) VALUES (3, 'a3', 8)").status, 200);
  const std::string expected = R"([[1,"a1",7],[2,"a2",7],[3,"a3",8]])";
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT id, alpha, c FROM app.e ORDER BY id")), expected);
  EXPECT_EQ(FlushAndWait(http, "app.e"), "completed");  // a second segment, newer schema
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT id, alpha, c FROM app.e ORDER BY id")), expected);
  ASSERT_EQ(Sql(http, RootAuth(), "UPDATE app.e SET c = 9 WHERE id = 1").status, 200);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT c FROM app.e WHERE id = 1")), "[[9]]");
  EXPECT_EQ(CompactAndWait(http, "app.e").find("\"rows_after\":3") != std::string::npos, true);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT id, alpha, c FROM app.e ORDER BY id")), R"([[1,"a1",9],[2,"a2",7],[3,"a3",8]])");
}

// The scope directory of a SHARED table (one per table) and its manifest's segments.
fs::path SharedScopeDir(const ServerProcess& server, const std::string& ns, const std::string& table) {
  for (const auto& e : fs::recursive_directory_iterator(server.data_dir() + "/storage/" + ns + "/" + table)) {
    if (e.path().filename() == "manifest.json") return e.path().parent_path();
  }
  return {};
}

json::array Segments(const fs::path& dir) {
  std::ifstream in(dir / "manifest.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).at("segments").as_array();
}

TEST(ColdReads, OverlappingSegmentsAndPrunedSegmentsKeepTheNewestVersions) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE SHARED TABLE app.p (id BIGINT PRIMARY KEY, room TEXT, n INT)").status, 200);
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.p SELECT range, 'a', range FROM range(100)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.p"), "completed");
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.p SELECT range, 'b', range FROM range(100, 200)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.p"), "completed");
  // Changes to flushed keys: the next segments share keys with earlier ones.
  ASSERT_EQ(Sql(http, RootAuth(), "UPDATE app.p SET room = 'z' WHERE id = 5; DELETE FROM app.p WHERE id = 6").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.p"), "completed");
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.p VALUES (6, 'q', 6)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.p"), "completed");
  ASSERT_EQ(Sql(http, RootAuth(), "UPDATE app.p SET room = 'a' WHERE id = 150").status, 200);  // stays hot
  // Hot versions at the edges of the segments' key ranges hide their cold versions too.
  ASSERT_EQ(Sql(http, RootAuth(), "UPDATE app.p SET n = -1 WHERE id IN (0, 99, 100, 199); "
                                   "INSERT INTO app.p VALUES (500, 'b', -1)").status, 200);

  const fs::path dir = SharedScopeDir(server, "app", "p");
  ASSERT_FALSE(dir.empty());
  json::array segments = Segments(dir);
  ASSERT_EQ(segments.size(), 4u);
  std::vector<bool> overlaps;
  for (const auto& s : segments) overlaps.push_back(s.at("overlaps_earlier").as_bool());
  EXPECT_EQ(overlaps, (std::vector<bool>{false, false, true, true}));

  auto check = [&] {
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*), count(DISTINCT id) FROM app.p")), "[[201,201]]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT list(id ORDER BY id) FROM app.p WHERE n = -1")), "[[[0,99,100,199,500]]]");
    // Segment 3 (room 'z') is pruned for room = 'a', yet its key 5 still hides segment 1's.
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*), min(id), max(id) FROM app.p WHERE room = 'a'")), "[[99,0,150]]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT id FROM app.p WHERE room = 'z'")), "[[5]]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT room FROM app.p WHERE id = 6")), R"([["q"]])");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.p WHERE id BETWEEN 100 AND 199 AND room = 'b'")), "[[99]]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.p WHERE id BETWEEN 150 AND 600")), "[[51]]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.p p WHERE p.id >= 190 AND 195 > p.id")), "[[5]]");
  };
  check();

  // Pruned segments are not opened: with segment 2 (ids 100..199, room 'b') unreadable,
  // queries whose filters exclude it still answer; a full scan fails cleanly.
  const fs::path second = dir / std::string(segments[1].at("file").as_string());
  fs::copy_file(second, dir / "kept.bin");
  { std::ofstream(second, std::ios::trunc) << "not parquet"; }
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.p WHERE id < 100")), "[[100]]");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.p WHERE room = 'z'")), "[[1]]");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.p WHERE _seq < 0")), "[[0]]");
  auto broken = Sql(http, RootAuth(), "SELECT count(*) FROM app.p");
  EXPECT_NE(broken.status, 200);
  EXPECT_FALSE(broken.error_code().empty());
  fs::rename(dir / "kept.bin", second);
  check();

  // Compaction leaves one segment that overlaps nothing; the rows stay.
  EXPECT_NE(CompactAndWait(http, "app.p"), "timeout");
  segments = Segments(dir);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_FALSE(segments[0].at("overlaps_earlier").as_bool());
  check();
}

// A point SELECT of a flushed key reads only the segments whose key range may hold it (no
// hot scan, no merge with hot keys). It answers exactly as the general path (`id IN (k)`)
// does — rows, names and types — for any column list, across segments that share keys,
// tombstones, re-inserts, schema changes, user scopes and compaction.
TEST(ColdReads, PointReadsOfFlushedKeysAnswerAsTheGeneralPath) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE SHARED TABLE app.k (id BIGINT PRIMARY KEY, name TEXT, n INT); "
                                   "CREATE USER TABLE app.m (key TEXT PRIMARY KEY, body TEXT); "
                                   "CREATE USER TABLE app.um (id INT PRIMARY KEY, body TEXT)").status, 200);
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.k SELECT range, 'v' || range, range FROM range(300)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.k"), "completed");
  ASSERT_EQ(Sql(http, RootAuth(), "UPDATE app.k SET name = 'u' WHERE id % 7 = 0; "
                                   "DELETE FROM app.k WHERE id % 11 = 0").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.k"), "completed");  // updates and tombstones
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.k VALUES (22, 'back', 1), (33, 'back', 2), (1000, 'far', 3)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.k"), "completed");  // re-inserts of deleted keys
  ASSERT_EQ(Sql(http, RootAuth(), "ALTER TABLE app.k RENAME COLUMN name TO label; "
                                   "ALTER TABLE app.k ADD COLUMN extra INT DEFAULT 5; "
                                   "UPDATE app.k SET n = -n WHERE id % 13 = 0").status, 200);  // hot again
  for (const char* user : {"ann", "ben"}) {
    ASSERT_EQ(Sql(http, RootAuth(), std::string("CREATE USER '") + user + "' WITH PASSWORD '" + user +
                                         "-password' ROLE user").status, 200);
    ASSERT_EQ(Sql(http, Basic(user), std::string("INSERT INTO app.m SELECT 'k' || range, '") + user +
                                         "-' || range FROM range(40)").status, 200);
    ASSERT_EQ(Sql(http, Basic(user), std::string("INSERT INTO app.um SELECT range, '") + user +
                                         "-' || range FROM range(40)").status, 200);
  }
  EXPECT_EQ(FlushAndWait(http, "app.m"), "completed");
  EXPECT_EQ(FlushAndWait(http, "app.um"), "completed");
  ASSERT_EQ(Sql(http, Basic("ann"), "DELETE FROM app.m WHERE key = 'k3'; UPDATE app.m SET body = 'x' WHERE key = 'k4'").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.m"), "completed");

  // The whole first result (schema, rows, row count), as the client gets it.
  auto answer = [&](const std::string& auth, const std::string& sql) {
    auto r = Sql(http, auth, sql);
    return r.status == 200 ? json::serialize(r.result(0)) : "error " + json::serialize(r.body);
  };
  auto check = [&] {
    int rows_seen = 0;
    for (int id = -2; id <= 302; ++id) {
      const std::string k = std::to_string(id);
      for (const std::string select : {"*", "id, label, extra", "label AS l, _seq", "t.n"}) {
        if (select != "*" && id % 3 != 0) continue;
        const std::string point = answer(RootAuth(), "SELECT " + select + " FROM app.k t WHERE id = " + k);
        EXPECT_EQ(point, answer(RootAuth(), "SELECT " + select + " FROM app.k t WHERE id IN (" + k + ")"))
            << select << " at id " << id;
        if (point.find("\"row_count\":1") != std::string::npos) ++rows_seen;
      }
    }
    EXPECT_GT(rows_seen, 250);  // the comparison is of rows, mostly
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT label, n FROM app.k WHERE id = 22")), R"([["back",1]])");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT label FROM app.k WHERE 14 = id")), R"([["u"]])");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT label FROM app.k WHERE id = 44")), "[]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT n FROM app.k WHERE id = '26'")), "[[-26]]");
    EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT label, extra FROM app.k WHERE id = 1000")), R"([["far",5]])");
    for (const char* user : {"ann", "ben"}) {
      for (int i = 0; i < 42; ++i) {
        const std::string key = "'k" + std::to_string(i) + "'";
        EXPECT_EQ(answer(Basic(user), "SELECT * FROM app.m WHERE key = " + key),
                  answer(Basic(user), "SELECT * FROM app.m WHERE key IN (" + key + ")"))
            << user << " " << key;
        const std::string id = std::to_string(i);
        const std::string mine = answer(Basic(user), "SELECT body FROM app.um WHERE id = " + id);
        EXPECT_EQ(mine, answer(Basic(user), "SELECT body FROM app.um WHERE id IN (" + id + ")")) << user << " " << id;
        if (i < 40) {
          EXPECT_NE(mine.find(std::string(user) + "-" + id), std::string::npos) << mine;
        }
      }
    }
    EXPECT_EQ(Rows(Sql(http, Basic("ann"), "SELECT body FROM app.m WHERE key = 'k3'")), "[]");
    EXPECT_EQ(Rows(Sql(http, Basic("ann"), "SELECT body FROM app.m WHERE key = 'k4'")), R"([["x"]])");
    EXPECT_EQ(Rows(Sql(http, Basic("ben"), "SELECT body FROM app.m WHERE key = 'k3'")), R"([["ben-3"]])");
  };
  // Metrics: point reads of flushed keys come back to the same row group, which is decoded
  // on its second miss and then answers them (integer keys: app.k).
  auto scrape = [&](const std::string& series) {
    auto r = http.Send("GET", "/metrics", "", {{"Authorization", RootAuth()}});
    if (!r.ok()) return -1.0;
    const size_t at = r->body.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::strtod(r->body.c_str() + at + series.size() + 2, nullptr);
  };
  check();
  EXPECT_GE(scrape("kalamdb_cold_point_cache_decoded_total"), 1);
  const double hits = scrape("kalamdb_cold_point_cache_hits_total");
  EXPECT_GT(hits, 200);
  EXPECT_GT(scrape("kalamdb_cold_point_cache_bytes"), 0);
  EXPECT_EQ(CompactAndWait(http, "app.k").find("timeout"), std::string::npos);
  EXPECT_EQ(CompactAndWait(http, "app.m").find("timeout"), std::string::npos);
  check();  // new segment files: decoded again, from the compacted rows
  EXPECT_GE(scrape("kalamdb_cold_point_cache_decoded_total"), 2);
  EXPECT_GT(scrape("kalamdb_cold_point_cache_hits_total"), hits + 200);

  // A point read of a segment that can't be read fails cleanly (a fresh table: nothing of
  // it decoded yet); hot keys still answer.
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE SHARED TABLE app.z (id BIGINT PRIMARY KEY, n INT); "
                                   "INSERT INTO app.z SELECT range, range FROM range(50)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.z"), "completed");
  ASSERT_EQ(Sql(http, RootAuth(), "UPDATE app.z SET n = -1 WHERE id = 13").status, 200);
  const fs::path dir = SharedScopeDir(server, "app", "z");
  json::array segments = Segments(dir);
  ASSERT_EQ(segments.size(), 1u);
  const fs::path file = dir / std::string(segments[0].at("file").as_string());
  fs::rename(file, dir / "kept.bin");
  { std::ofstream(file, std::ios::trunc) << "not parquet"; }
  for (int i = 0; i < 3; ++i) {  // the second miss would decode the row group
    auto broken = Sql(http, RootAuth(), "SELECT * FROM app.z WHERE id = 5");
    EXPECT_NE(broken.status, 200);
    EXPECT_FALSE(broken.error_code().empty());
  }
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT n FROM app.z WHERE id = 13")), "[[-1]]");  // hot
  fs::remove(file);
  fs::rename(dir / "kept.bin", file);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT n FROM app.z WHERE id = 5")), "[[5]]");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT n FROM app.z WHERE id = 6")), "[[6]]");
}

// Pruning compares as the query does: a bound that the column's type can't hold exactly
// (5.5 against integers, a timestamp against dates) prunes nothing it shouldn't.
TEST(ColdReads, PruningKeepsRowsThatMatchInTheWiderType) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.w (id INT PRIMARY KEY, n INT, d DATE); "
                                   "INSERT INTO app.w SELECT range, range + 1, DATE '2026-01-01' + range::INT FROM range(6)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.w"), "completed");  // n 1..6, d Jan 1..6
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.w SELECT range, range, DATE '2026-02-01' FROM range(10, 21)").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.w"), "completed");  // n 10..20
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.w WHERE n > 5.5")), "[[12]]");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.w WHERE n < 1.5")), "[[1]]");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.w WHERE d > TIMESTAMP '2026-01-06 12:00:00'")), "[[11]]");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.w WHERE d >= TIMESTAMP '2026-01-06 00:00:00'")), "[[12]]");
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*) FROM app.w w2(n, id, d) WHERE id = 6")), "[[1]]");
}

TEST(ColdReads, QueriesDuringFlushesSeeEveryRowOnce) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  constexpr int kRows = 2000;
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE SHARED TABLE app.c (id BIGINT PRIMARY KEY, n INT) "
                                   "WITH (FLUSH_POLICY = 'rows:1000000')").status, 200);
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.c SELECT range, 0 FROM range(" + std::to_string(kRows) + ")").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.c"), "completed");

  std::atomic<bool> stop{false};
  std::atomic<int> flushes{0}, updates{0};
  std::thread writer([&] {  // changes flushed rows (and rows changed since)
    auto client = server.Client();
    std::mt19937 random(7);
    while (!stop) {
      const int id = static_cast<int>(random() % kRows);
      if (Sql(client, RootAuth(), "UPDATE app.c SET n = n + 1 WHERE id BETWEEN " + std::to_string(id) +
                                      " AND " + std::to_string(id + 40)).status == 200) {
        ++updates;
      }
    }
  });
  std::thread flusher([&] {
    auto client = server.Client();
    while (!stop) {
      if (FlushAndWait(client, "app.c") == "completed") ++flushes;
    }
  });
  int reads = 0;
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    auto r = Sql(http, RootAuth(), "SELECT count(*), count(DISTINCT id) FROM app.c");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    ASSERT_EQ(Rows(r), "[[2000,2000]]") << "after " << flushes << " flushes";
    ++reads;
  }
  stop = true;
  writer.join();
  flusher.join();
  EXPECT_GT(flushes.load(), 3);
  EXPECT_GT(updates.load(), 10);
  EXPECT_GT(reads, 10);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*), count(DISTINCT id) FROM app.c")), "[[2000,2000]]");
}

TEST(ColdStorages, RelativeStoragesFlushAtOnceOutsideOnesAfterARestart) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  const fs::path outside = fs::path(server.data_dir()).parent_path() /
                           ("outside-" + std::to_string(std::random_device{}()));
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE STORAGE rel TYPE 'filesystem' NAME 'r' BASE_DIRECTORY 'archive'; "
                                   "CREATE STORAGE ext TYPE 'filesystem' NAME 'e' BASE_DIRECTORY '" + outside.string() + "'; "
                                   "CREATE SHARED TABLE app.r (id INT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'rel'); "
                                   "CREATE SHARED TABLE app.x (id INT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'ext'); "
                                   "INSERT INTO app.r VALUES (1, 'r1'), (2, 'r2'); INSERT INTO app.x VALUES (1, 'x1')").status, 200);
  EXPECT_EQ(FlushAndWait(http, "app.r"), "completed");
  EXPECT_TRUE(fs::exists(server.data_dir() + "/storage/archive/app/r"));
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT id, v FROM app.r ORDER BY id")), R"([[1,"r1"],[2,"r2"]])");

  // Created outside <data>/storage after start-up: refused with the reason, nothing lost.
  auto refused = Sql(http, RootAuth(), "FLUSH TABLE app.x");
  EXPECT_EQ(refused.error_code(), "INVALID_SQL");
  EXPECT_NE(json::serialize(refused.body).find("restart"), std::string::npos) << json::serialize(refused.body);
  auto all = Sql(http, RootAuth(), "FLUSH ALL TABLES IN app");  // the others still flush
  EXPECT_EQ(all.status, 200) << json::serialize(all.body);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT v FROM app.x")), R"([["x1"]])");

  EXPECT_EQ(server.Stop(SIGTERM), 0);
  server.Start();
  http = server.Client();
  EXPECT_EQ(FlushAndWait(http, "app.x"), "completed");
  bool written = false;
  for (const auto& e : fs::recursive_directory_iterator(outside)) {
    if (e.path().extension() == ".parquet") written = true;
  }
  EXPECT_TRUE(written);
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.x VALUES (2, 'x2')").status, 200);
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT id, v FROM app.x ORDER BY id")), R"([[1,"x1"],[2,"x2"]])");
  std::error_code ec;
  fs::remove_all(outside, ec);
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

// A damaged manifest.json must never cost data: start-up keeps the segments beside it,
// reads and flushes of the scope fail with a clear error instead of answering without the
// cold rows or writing over a listed segment, and once the manifest is restored every row
// is back.
TEST(ColdDamage, ADamagedManifestKeepsItsSegmentsAndFailsClearly) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; "
                                   "CREATE SHARED TABLE app.d (id BIGINT PRIMARY KEY, v TEXT); "
                                   "INSERT INTO app.d SELECT range, 'v' || range FROM range(50)").status, 200);
  ASSERT_EQ(FlushAndWait(http, "app.d"), "completed");
  std::vector<fs::path> manifests, segments;
  for (const auto& entry : fs::recursive_directory_iterator(server.data_dir())) {
    if (entry.path().filename() == "manifest.json") manifests.push_back(entry.path());
    if (entry.path().extension() == ".parquet") segments.push_back(entry.path());
  }
  ASSERT_EQ(manifests.size(), 1u);
  ASSERT_EQ(segments.size(), 1u);
  std::string saved;
  {
    std::ifstream in(manifests[0]);
    std::stringstream text;
    text << in.rdbuf();
    saved = text.str();
  }
  // Files and directories the server made are its owner's alone (they hold password
  // hashes and users' rows).
  for (const auto& entry : fs::recursive_directory_iterator(server.data_dir())) {
    const auto perms = fs::status(entry.path()).permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none)
        << entry.path();
  }
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  { std::ofstream(manifests[0], std::ios::trunc) << saved.substr(0, saved.size() / 2); }

  server.Start();
  http = server.Client();
  EXPECT_TRUE(fs::exists(segments[0]));  // not taken for an orphan at start-up
  auto read = Sql(http, RootAuth(), "SELECT count(*) FROM app.d");
  EXPECT_EQ(read.error_code(), "INTERNAL_ERROR");
  EXPECT_NE(json::serialize(read.body).find("damaged"), std::string::npos) << json::serialize(read.body);
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.d VALUES (100, 'new')").status, 200);
  const json::array failed = StartJobAndWait(http, "FLUSH TABLE app.d");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.at(0).as_string(), "failed");
  EXPECT_NE(json::serialize(failed.at(2)).find("damaged"), std::string::npos) << json::serialize(failed);
  EXPECT_TRUE(fs::exists(segments[0]));

  EXPECT_EQ(server.Stop(SIGTERM), 0);
  { std::ofstream(manifests[0], std::ios::trunc) << saved; }
  server.Start();
  http = server.Client();
  EXPECT_EQ(Rows(Sql(http, RootAuth(), "SELECT count(*), max(id) FROM app.d")), "[[51,100]]");
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace kalam::testing
