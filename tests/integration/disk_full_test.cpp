// A full disk under the data directory: the server's data directory is a small tmpfs.
// Writes and flushes fail with 507 RESOURCE_EXHAUSTED, reads go on, and once space is
// freed writes succeed again without a restart; nothing acknowledged is lost, before or
// after a restart. Mounting needs root (CAP_SYS_ADMIN): elsewhere the test is skipped.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr size_t kRowsPerInsert = 100;
constexpr size_t kValueBytes = 10000;  // about 1 MB a statement

// A tmpfs of a given size on dir for the life of the object. The unmount is lazy, so it
// succeeds while the server still holds files there, on every path out of the test.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

uint64_t FreeBytes(const std::string& dir) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return 0;
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

// A file of about bytes of zeros, written out (tmpfs takes the pages at once).
bool WriteFiller(const std::string& path, uint64_t bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string block(1 << 20, '\0');
  for (uint64_t written = 0; written < bytes; written += block.size()) {
    if (!out.write(block.data(), static_cast<std::streamsize>(
                                     std::min<uint64_t>(block.size(), bytes - written)))) {
      return false;
    }
  }
  return static_cast<bool>(out.flush());
}

// Hex of random bytes: Parquet and RocksDB cannot compress it much, so the rows take
// the space they seem to.
std::string RandomText(std::mt19937_64& random, size_t length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(length, '0');
  for (char& c : text) c = kHex[random() & 15];
  return text;
}

SqlResponse InsertBatch(client::HttpClient& http, std::mt19937_64& random, int64_t first_id) {
  std::string sql = "INSERT INTO app.t (id, v) VALUES ";
  for (size_t i = 0; i < kRowsPerInsert; ++i) {
    if (i > 0) sql += ", ";
    sql += "(" + std::to_string(first_id + static_cast<int64_t>(i)) + ", '" +
           RandomText(random, kValueBytes) + "')";
  }
  return Sql(http, RootAuth(), sql);
}

std::string ErrorMessage(const SqlResponse& r) {
  const auto* error = r.body.is_object() ? r.body.as_object().if_contains("error") : nullptr;
  if (error == nullptr || !error->is_object()) return json::serialize(r.body);
  const auto* message = error->as_object().if_contains("message");
  return message != nullptr && message->is_string() ? std::string(message->as_string())
                                                    : json::serialize(r.body);
}

std::vector<int64_t> StoredIds(client::HttpClient& http) {
  std::vector<int64_t> ids;
  const SqlResponse r = Sql(http, RootAuth(), "SELECT id FROM app.t ORDER BY id");
  EXPECT_EQ(r.status, 200) << json::serialize(r.body);
  if (r.status != 200) return ids;
  for (const auto& row : r.rows()) ids.push_back(row.at(0).as_int64());
  return ids;
}

std::vector<std::string> TempFiles(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".tmp") found.push_back(it->path().string());
  }
  return found;
}

TEST(DiskFull, WritesFailWith507ReadsGoOnAndWritesResumeOnceSpaceIsFreed) {
  ServerProcess server;
  const TmpfsMount disk(server.data_dir(), "48m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs for the data directory (" << disk.error()
                 << "); this test needs root";
  }
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(),
                "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT)")
                .status,
            200);

  // Leave about 8 MB: a few statements fit, then the disk is full.
  const std::string filler = server.data_dir() + "/filler";
  ASSERT_TRUE(WriteFiller(filler, FreeBytes(server.data_dir()) - (8u << 20)));

  std::mt19937_64 random(15);
  std::set<int64_t> acknowledged;
  int64_t next_id = 1;
  SqlResponse refused;
  for (int i = 0; i < 40 && refused.status == 0; ++i) {
    SqlResponse r = InsertBatch(http, random, next_id);
    if (r.status == 200) {
      for (size_t k = 0; k < kRowsPerInsert; ++k)
        acknowledged.insert(next_id + static_cast<int64_t>(k));
    } else {
      refused = std::move(r);
    }
    next_id += kRowsPerInsert;
  }
  ASSERT_NE(refused.status, 0) << "the disk never filled";
  ASSERT_FALSE(acknowledged.empty());
  EXPECT_EQ(refused.status, 507) << json::serialize(refused.body);
  EXPECT_EQ(refused.error_code(), "RESOURCE_EXHAUSTED");
  EXPECT_NE(ErrorMessage(refused).find("the disk holding the data directory is full"),
            std::string::npos)
      << ErrorMessage(refused);

  // Full, and staying full: every write answers 507, past the store's retry interval.
  const auto full_until = std::chrono::steady_clock::now() + 1500ms;
  int refusals = 0;
  while (std::chrono::steady_clock::now() < full_until) {
    const SqlResponse r =
        Sql(http, RootAuth(),
            "INSERT INTO app.t (id, v) VALUES (" + std::to_string(next_id) + ", 'x')");
    ASSERT_EQ(r.status, 507) << json::serialize(r.body);
    EXPECT_EQ(r.error_code(), "RESOURCE_EXHAUSTED");
    ++refusals;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(refusals, 5);

  // Reads go on, with every acknowledged row.
  const std::vector<int64_t> expected(acknowledged.begin(), acknowledged.end());
  EXPECT_EQ(StoredIds(http), expected);

  // A flush cannot write its segment: the job fails and says why, leaving no partial
  // file, and the rows stay readable.
  const json::array flush = StartJobAndWait(http, "FLUSH TABLE app.t");
  ASSERT_FALSE(flush.empty());
  EXPECT_EQ(flush.at(0).as_string(), "failed") << json::serialize(flush);
  const std::string flush_error = json::serialize(flush.at(2));
  EXPECT_NE(flush_error.find("the disk holding the data directory is full (writing "),
            std::string::npos)
      << flush_error;
  EXPECT_NE(flush_error.find(".parquet)"), std::string::npos) << flush_error;  // the segment
  EXPECT_EQ(TempFiles(server.data_dir()), std::vector<std::string>());
  EXPECT_EQ(StoredIds(http), expected);
  EXPECT_EQ(::kill(server.pid(), 0), 0) << "the server died:\n" << server.log();

  // Space freed: writes succeed again, without a restart.
  ASSERT_TRUE(fs::remove(filler));
  SqlResponse resumed;
  EXPECT_TRUE(WaitUntil(
      [&] {
        resumed = InsertBatch(http, random, next_id);
        return resumed.status == 200;
      },
      15s))
      << json::serialize(resumed.body);
  for (size_t k = 0; k < kRowsPerInsert; ++k)
    acknowledged.insert(next_id + static_cast<int64_t>(k));
  next_id += kRowsPerInsert;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(InsertBatch(http, random, next_id).status, 200);
    for (size_t k = 0; k < kRowsPerInsert; ++k)
      acknowledged.insert(next_id + static_cast<int64_t>(k));
    next_id += kRowsPerInsert;
  }
  const std::vector<int64_t> all(acknowledged.begin(), acknowledged.end());
  EXPECT_EQ(StoredIds(http), all);
  // And flushes work again.
  const std::string flushed = RunJob(http, "FLUSH TABLE app.t");
  EXPECT_NE(flushed.find("\"rows_flushed\":" + std::to_string(all.size())), std::string::npos)
      << flushed;
  EXPECT_EQ(StoredIds(http), all);

  // Nothing corrupt: a restart reads every acknowledged row.
  ASSERT_EQ(server.Stop(SIGTERM), 0) << server.log();
  server.Start();
  auto after = server.Client();
  EXPECT_EQ(StoredIds(after), all);
  EXPECT_EQ(
      Sql(after, RootAuth(), "INSERT INTO app.t (id, v) VALUES (0, 'after the restart')").status,
      200);
}

}  // namespace
}  // namespace kalam::testing
