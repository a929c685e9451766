// BACKUP DATABASE under concurrent writes, restored offline into a fresh directory
// (kalamdb-server --restore) and staged online (RESTORE DATABASE, applied at the next
// start): every transaction acknowledged before the backup began is there, whole; nothing
// torn; cold segments, users and tokens' secret come along; paths outside
// [backup] allowed_directories are refused.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string Body(const SqlResponse& r) { return json::serialize(r.body); }

class TempBackups {
 public:
  TempBackups() {
    char pattern[] = "/tmp/kalamdb-backups-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  ~TempBackups() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }
  std::string config() const { return "[backup]\nallowed_directories = [\"" + dir_ + "\"]\n"; }

 private:
  std::string dir_;
};

int RunRestore(const std::string& backup, const std::string& data_dir) {
  const std::string command = std::string(KALAMDB_SERVER_BINARY) + " --restore '" + backup +
                              "' --data-path '" + data_dir + "' >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Transactions (id, txn) in app.a and app.b: whole ones, and whether any is torn.
std::set<int64_t> WholeTransactions(client::HttpClient& http, bool& torn) {
  auto r = Sql(http, RootAuth(),
               "SELECT coalesce(a.txn, b.txn), count(DISTINCT a.id), count(DISTINCT b.id) FROM app.a a "
               "FULL OUTER JOIN app.b b ON a.id = b.id GROUP BY ALL");
  EXPECT_EQ(r.status, 200) << Body(r);
  std::set<int64_t> whole;
  torn = false;
  if (r.status != 200) return whole;
  for (const auto& row : r.rows()) {
    const auto& cells = row.as_array();
    if (cells.at(1).as_int64() == 2 && cells.at(2).as_int64() == 2) {
      whole.insert(cells.at(0).as_int64());
    } else {
      torn = true;
    }
  }
  return whole;
}

TEST(Backup, ConsistentUnderWritesAndRestoredIntoAFreshDirectory) {
  TempBackups backups;
  ServerProcess source({"", backups.config(), {}, true, ""});
  source.Start();
  auto http = source.Client();
  ASSERT_EQ(Sql(http, RootAuth(),
                "CREATE USER 'bea' WITH PASSWORD 'bea-password' ROLE user; CREATE NAMESPACE app; "
                "CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, txn BIGINT); "
                "CREATE SHARED TABLE app.b (id BIGINT PRIMARY KEY, txn BIGINT); "
                "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  ASSERT_EQ(Sql(http, client::BasicAuth("bea", "bea-password"),
                "INSERT INTO app.notes VALUES (1, 'mine'), (2, 'also mine')").status, 200);
  // Some of it cold: the first transactions, flushed.
  ASSERT_EQ(Sql(http, RootAuth(), "BEGIN; INSERT INTO app.a VALUES (-2, -1), (-1, -1); "
                                  "INSERT INTO app.b VALUES (-2, -1), (-1, -1); COMMIT").status, 200);
  EXPECT_NE(RunJob(http, "FLUSH TABLE app.a").find("rows_flushed"), std::string::npos);
  EXPECT_NE(RunJob(http, "FLUSH TABLE app.notes").find("rows_flushed"), std::string::npos);

  std::mutex mutex;
  std::set<int64_t> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> next{0};
  std::thread writer([&] {
    auto w = source.Client();
    while (!stop) {
      const int64_t txn = next++;
      const std::string rows = "(" + std::to_string(2 * txn) + ", " + std::to_string(txn) + "), (" +
                               std::to_string(2 * txn + 1) + ", " + std::to_string(txn) + ")";
      auto r = Sql(w, RootAuth(), "BEGIN; INSERT INTO app.a VALUES " + rows + "; INSERT INTO app.b VALUES " + rows + "; COMMIT");
      if (r.status == 200) {
        std::lock_guard lock(mutex);
        acknowledged.insert(txn);
      }
    }
  });
  ASSERT_TRUE(WaitUntil([&] { std::lock_guard lock(mutex); return acknowledged.size() >= 20; }, std::chrono::seconds(20)));
  std::set<int64_t> before;
  {
    std::lock_guard lock(mutex);
    before = acknowledged;
  }
  const std::string target = backups.dir() + "/first";
  const std::string result = RunJob(http, "BACKUP DATABASE TO '" + target + "'");
  EXPECT_NE(result.find("segment_files"), std::string::npos) << result;
  stop = true;
  writer.join();
  EXPECT_TRUE(fs::exists(target + "/backup.json"));

  // Offline restore into a fresh data directory, then a server on it.
  ServerProcess restored({"", backups.config(), {}, true, ""});
  ASSERT_EQ(RunRestore(target, restored.data_dir()), 0);
  EXPECT_EQ(RunRestore(target, restored.data_dir()), 1);  // not into a directory that holds data
  restored.Start();
  auto copy = restored.Client();
  bool torn = false;
  const std::set<int64_t> whole = WholeTransactions(copy, torn);
  EXPECT_FALSE(torn);
  for (const int64_t txn : before) EXPECT_TRUE(whole.contains(txn)) << "transaction " << txn << " missing";
  EXPECT_TRUE(whole.contains(-1));  // the flushed one
  // Its cold segments are read from the new data directory, not the source's.
  auto local = Sql(copy, RootAuth(), "SELECT base_directory FROM system.storages WHERE storage_id = 'local'");
  ASSERT_EQ(local.status, 200) << Body(local);
  EXPECT_EQ(std::string(local.rows().at(0).at(0).as_string()), (fs::path(restored.data_dir()) / "storage").string());
  EXPECT_EQ(json::serialize(Sql(copy, client::BasicAuth("bea", "bea-password"), "SELECT id, body FROM app.notes ORDER BY id").rows()),
            R"([[1,"mine"],[2,"also mine"]])");
  // The copy lives on its own: writes to it work and the source is untouched by them.
  EXPECT_EQ(Sql(copy, RootAuth(), "INSERT INTO app.a VALUES (-100, -100)").status, 200);
  EXPECT_EQ(Sql(http, RootAuth(), "SELECT count(*) FROM app.a WHERE id = -100").rows().at(0).at(0).as_int64(), 0);

  // Staged restore on the source: applied at its next start, the old data kept aside.
  auto staged = Sql(http, RootAuth(), "RESTORE DATABASE FROM '" + target + "'");
  ASSERT_EQ(staged.status, 200) << Body(staged);
  const int64_t total_before_restart = Sql(http, RootAuth(), "SELECT count(*) FROM app.a").rows().at(0).at(0).as_int64();
  EXPECT_EQ(source.Stop(SIGTERM), 0);
  source.Start();
  auto again = source.Client();
  const std::set<int64_t> after = WholeTransactions(again, torn);
  EXPECT_FALSE(torn);
  EXPECT_EQ(after, whole);
  EXPECT_LE(static_cast<int64_t>(2 * after.size()), total_before_restart);
  bool kept_aside = false;
  for (const auto& e : fs::directory_iterator(source.data_dir())) {
    kept_aside = kept_aside || e.path().filename().string().starts_with("replaced-");
  }
  EXPECT_TRUE(kept_aside);
}

TEST(Backup, PathsAndRolesAreChecked) {
  TempBackups backups;
  ServerProcess server({"", backups.config(), {}, true, ""});
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE USER 'ulf' WITH PASSWORD 'ulf-password' ROLE user").status, 200);
  for (const std::string& path : {std::string("/etc/kalam-backup"), backups.dir() + "/../escape", std::string("relative-dir"),
                                  std::string("")}) {
    auto r = Sql(http, RootAuth(), "BACKUP DATABASE TO '" + path + "'");
    EXPECT_TRUE(r.error_code() == "PERMISSION_DENIED" || r.error_code() == "INVALID_SQL") << path << ": " << Body(r);
    EXPECT_EQ(Sql(http, RootAuth(), "RESTORE DATABASE FROM '" + path + "'").status == 200, false) << path;
  }
  EXPECT_EQ(Sql(http, client::BasicAuth("ulf", "ulf-password"), "BACKUP DATABASE TO '" + backups.dir() + "/x'").error_code(),
            "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http, RootAuth(), "BACKUP DATABASE '" + backups.dir() + "/x'").error_code(), "INVALID_SQL");
  // Restoring something that is not a backup is refused at once.
  fs::create_directories(backups.dir() + "/not-a-backup");
  EXPECT_EQ(Sql(http, RootAuth(), "RESTORE DATABASE FROM '" + backups.dir() + "/not-a-backup'").error_code(), "INVALID_INPUT");
  // A second backup into a directory that holds one fails as a job, saying why.
  EXPECT_NE(RunJob(http, "BACKUP DATABASE TO '" + backups.dir() + "/one'").find("segment_files"), std::string::npos);
  const json::array failed = StartJobAndWait(http, "BACKUP DATABASE TO '" + backups.dir() + "/one'");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.at(0).as_string(), "failed");
  EXPECT_NE(json::serialize(failed).find("not empty"), std::string::npos) << json::serialize(failed);
  // Inside a transaction: refused.
  EXPECT_EQ(Sql(http, RootAuth(), "BEGIN; BACKUP DATABASE TO '" + backups.dir() + "/two'; COMMIT").error_code(), "UNSUPPORTED");

  // Without [backup] allowed_directories, backups go beside the data directory
  // (<data_path>/../backups); an empty list turns them off.
  ServerProcess plain;
  plain.Start();
  auto p = plain.Client();
  auto r = Sql(p, RootAuth(), "BACKUP DATABASE TO '/tmp/anything'");
  EXPECT_EQ(r.error_code(), "PERMISSION_DENIED");
  EXPECT_NE(Body(r).find("allowed_directories"), std::string::npos);
  const std::string beside = (fs::path(plain.data_dir()).parent_path() / "backups" / "b").string();
  EXPECT_NE(RunJob(p, "BACKUP DATABASE TO '" + beside + "'").find("segment_files"), std::string::npos);
  ServerProcess off({"", "[backup]\nallowed_directories = []\n", {}, true, ""});
  off.Start();
  auto o = off.Client();
  r = Sql(o, RootAuth(), "BACKUP DATABASE TO '" + beside + "2'");
  EXPECT_EQ(r.error_code(), "PERMISSION_DENIED");
  EXPECT_NE(Body(r).find("off"), std::string::npos) << Body(r);
}

}  // namespace
}  // namespace kalam::testing
