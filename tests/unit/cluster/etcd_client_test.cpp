// EtcdClient against a real etcd (Debian's etcd-server, one member started here), and
// catalogs of two nodes sharing their entries through it (EtcdCatalog).
#include "cluster/etcd_client.h"
#include "catalog/catalog.h"
#include "cluster/etcd_catalog.h"
#include "loopback.h"
#include "store/kv_store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

namespace kalam::cluster {
namespace {

using std::chrono::milliseconds;

class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/kalamdb-etcd-unit-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    // A port picked free may be taken before etcd binds it (or both picks may be one port):
    // etcd then exits at once, and starts again on other ports.
    for (int attempt = 1; attempt <= 3; ++attempt) {
      if (Spawn()) return;
      std::filesystem::remove_all(dir_ + "/data");
    }
    FAIL() << "etcd did not start:\n" << ReadLog();
  }
  static std::string ReadLog() {
    std::ifstream in(dir_ + "/etcd.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Starts etcd on two free ports; true once it answers a read, false if it exited.
  static bool Spawn() {
    const uint16_t client_port = FreePort();
    uint16_t peer_port = FreePort();
    while (peer_port == client_port) peer_port = FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(client_port);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* log = std::fopen((dir_ + "/etcd.log").c_str(), "a");
      if (log != nullptr) {
        ::dup2(fileno(log), STDOUT_FILENO);
        ::dup2(fileno(log), STDERR_FILENO);
      }
      ::execlp("etcd", "etcd", "--data-dir", (dir_ + "/data").c_str(), "--listen-client-urls",
               url_.c_str(), "--advertise-client-urls", url_.c_str(), "--listen-peer-urls",
               peer.c_str(), "--initial-advertise-peer-urls", peer.c_str(), "--initial-cluster",
               ("default=" + peer).c_str(), "--logger", "zap", "--log-level", "warn",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready once it answers a read.
    EtcdClient probe({url_}, milliseconds(1000));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!probe.Get("probe").ok()) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return true;
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  EtcdClient client_{{url_}, milliseconds(2000)};
  static inline std::string dir_, url_;
  static inline pid_t pid_ = -1;
};

TEST_F(EtcdClientTest, PutGetListDelete) {
  ASSERT_TRUE(client_.Put("/t1/a", "1").ok());
  auto rev = client_.Put("/t1/b", std::string("two\0bytes", 9));
  ASSERT_TRUE(rev.ok()) << rev.status().message();
  EXPECT_GT(*rev, 0);
  ASSERT_TRUE(client_.Put("/t1c", "outside the prefix").ok());
  auto b = client_.Get("/t1/b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->value, std::string("two\0bytes", 9));
  EXPECT_EQ((*b)->mod_revision, *rev);
  auto missing = client_.Get("/t1/none");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto listed = client_.List("/t1/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "/t1/a");
  EXPECT_EQ((*listed)[1].key, "/t1/b");
  auto deleted = client_.Delete("/t1/a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(client_.List("/t1/")->size(), 1u);
}

TEST_F(EtcdClientTest, TxnComparesAtomically) {
  const std::vector<EtcdOp> put_once = {{EtcdOp::Kind::kPut, "/t2/k", "first", 0}};
  auto created = client_.Txn({{"/t2/k", EtcdCompare::Target::kCreateRevision, 0, {}}}, put_once);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->succeeded);
  auto again = client_.Txn({{"/t2/k", EtcdCompare::Target::kCreateRevision, 0, {}}},
                           {{EtcdOp::Kind::kPut, "/t2/k", "second", 0}},
                           {{EtcdOp::Kind::kPut, "/t2/lost", "yes", 0}});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->succeeded);
  EXPECT_EQ((*client_.Get("/t2/k"))->value, "first");
  EXPECT_EQ((*client_.Get("/t2/lost"))->value, "yes");  // the failure branch ran
  // Compare-and-swap on the value and on the revision.
  const int64_t rev = (*client_.Get("/t2/k"))->mod_revision;
  auto swapped = client_.Txn({{"/t2/k", EtcdCompare::Target::kValue, 0, "first"}},
                             {{EtcdOp::Kind::kPut, "/t2/k", "third", 0}});
  ASSERT_TRUE(swapped.ok());
  EXPECT_TRUE(swapped->succeeded);
  auto stale = client_.Txn({{"/t2/k", EtcdCompare::Target::kModRevision, rev, {}}},
                           {{EtcdOp::Kind::kDelete, "/t2/k", {}, 0}});
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->succeeded);
  EXPECT_EQ((*client_.Get("/t2/k"))->value, "third");
}

TEST_F(EtcdClientTest, KeysOfARevokedOrLapsedLeaseGo) {
  auto lease = client_.GrantLease(60);
  ASSERT_TRUE(lease.ok()) << lease.status().message();
  EXPECT_EQ(lease->ttl_secs, 60);
  ASSERT_TRUE(client_.Put("/t3/held", "x", lease->id).ok());
  EXPECT_EQ((*client_.Get("/t3/held"))->lease, lease->id);
  auto ttl = client_.KeepAlive(lease->id);
  ASSERT_TRUE(ttl.ok()) << ttl.status().message();
  EXPECT_EQ(*ttl, 60);
  ASSERT_TRUE(client_.RevokeLease(lease->id).ok());
  EXPECT_FALSE(client_.Get("/t3/held")->has_value());
  auto gone = client_.KeepAlive(lease->id);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, 0);
  // A put on a lease that does not exist is refused by etcd, with its reason.
  auto refused = client_.Put("/t3/orphan", "x", 12345);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("lease not found"), std::string::npos)
      << refused.status().message();
}

TEST_F(EtcdClientTest, MovesPastEndpointsThatRefuseOrHang) {
  Socket hanging(true);  // accepts connections into its queue, never answers
  const std::string refused = "http://127.0.0.1:" + std::to_string(FreePort());
  EtcdClient client({refused, hanging.url(), url_}, milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Put("/t4/k", "v").ok());
  EXPECT_EQ(client.endpoint(), url_);
  // The hanging endpoint cost one timeout, not forever.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // Stays on the endpoint that works.
  ASSERT_TRUE(client.Get("/t4/k").ok());
  EXPECT_EQ(client.endpoint(), url_);
  // With none reachable: SERVICE_UNAVAILABLE naming the last one tried.
  EtcdClient nowhere({refused}, milliseconds(300));
  auto failed = nowhere.Get("/t4/k");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kServiceUnavailable);
  EXPECT_NE(failed.status().message().find(refused), std::string::npos);
}

// Two nodes' catalogs, each on its own store, sharing the one in etcd under prefix.
class EtcdCatalogTest : public EtcdClientTest {
 protected:
  struct Node {
    std::unique_ptr<store::KvStore> store;
    std::unique_ptr<EtcdCatalog> shared;
    std::unique_ptr<catalog::Catalog> catalog;
  };
  Node Open(const std::string& name, const std::string& prefix) {
    Node node;
    const std::string dir = dir_ + "/" + prefix + name;
    std::filesystem::create_directories(dir);
    node.store = std::move(store::KvStore::Open(dir + "/rocksdb", false)).value();
    node.catalog = std::move(catalog::Catalog::Open(*node.store, dir + "/storage")).value();
    node.shared = std::make_unique<EtcdCatalog>(std::vector<std::string>{url_}, "/" + prefix + "/", milliseconds(2000));
    return node;
  }
  static catalog::TableDef Table(const std::string& name) {
    catalog::TableDef t;
    t.ns = "default";
    t.name = name;
    catalog::ColumnDef id;
    id.id = 1;
    id.name = "id";
    id.type = ColumnType::kBigInt;
    id.nullable = false;
    id.primary_key = true;
    t.schemas.push_back({1, {id}, "", 0});
    return t;
  }
  static std::string Tables(const catalog::Catalog& c) {
    std::string out;
    for (const auto& [id, t] : c.snapshot()->tables) out += id + "#" + std::to_string(t.table_num) + " ";
    return out;
  }
};

TEST_F(EtcdCatalogTest, TheFirstNodeSeedsItAndTheNextTakesIt) {
  Node first = Open("first", "seed");
  Node second = Open("second", "seed");
  ASSERT_TRUE(first.catalog->CreateTable(Table("kept"), false).ok());
  ASSERT_TRUE(second.catalog->CreateTable(Table("forgotten"), false).ok());
  ASSERT_TRUE(first.catalog->Share(first.shared.get()).ok());
  ASSERT_TRUE(second.catalog->Share(second.shared.get()).ok());
  // The second node's own table is gone; the first's is there, under its number.
  EXPECT_EQ(Tables(*second.catalog), "default:kept#1 ");
  EXPECT_EQ(Tables(*first.catalog), "default:kept#1 ");
  // `local` stays where each node keeps it.
  EXPECT_EQ(first.catalog->snapshot()->storages.at("local").base_directory, dir_ + "/seedfirst/storage");
  EXPECT_EQ(second.catalog->snapshot()->storages.at("local").base_directory, dir_ + "/seedsecond/storage");
  // What one changes, the other reads.
  ASSERT_TRUE(second.catalog->CreateNamespace("app", false).ok());
  ASSERT_TRUE(first.catalog->Refresh().ok());
  EXPECT_TRUE(first.catalog->snapshot()->namespaces.contains("app"));
  // A change made on a catalog that missed another's is made on the fresher one.
  ASSERT_TRUE(first.catalog->CreateTable(Table("after"), false).ok());
  EXPECT_EQ(Tables(*first.catalog), "default:after#2 default:kept#1 ");
  EXPECT_EQ(second.catalog->CreateTable(Table("after"), false).status().code(), Code::kAlreadyExists);
  // A restart reads its own store, then the shared catalog again.
  ASSERT_TRUE(first.catalog->DropTable("default", "kept", false).ok());
  second.catalog.reset();
  second.catalog = std::move(catalog::Catalog::Open(*second.store, dir_ + "/seedsecond/storage")).value();
  EXPECT_EQ(Tables(*second.catalog), "default:after#2 default:kept#1 ");
  ASSERT_TRUE(second.catalog->Share(second.shared.get()).ok());
  EXPECT_EQ(Tables(*second.catalog), "default:after#2 ");
}

TEST_F(EtcdCatalogTest, ATableDroppedOnAnotherNodeIsToldOnceTaken) {
  Node a = Open("a", "gone");
  Node b = Open("b", "gone");
  std::vector<std::string> told;
  auto record = [&told](const std::vector<catalog::TableDef>& gone) {
    for (const auto& t : gone) told.push_back(t.id() + "#" + std::to_string(t.table_num));
  };
  ASSERT_TRUE(b.catalog->CreateTable(Table("own"), false).ok());  // #1 here alone
  b.catalog->SetOnTablesGone(record);
  ASSERT_TRUE(a.catalog->Share(a.shared.get()).ok());
  ASSERT_TRUE(a.catalog->CreateTable(Table("t1"), false).ok());  // #1 in the cluster
  ASSERT_TRUE(a.catalog->CreateTable(Table("t2"), false).ok());  // #2
  // b's own table is forgotten, but its number is t1's now: its rows are not b's to remove.
  ASSERT_TRUE(b.catalog->Share(b.shared.get()).ok());
  EXPECT_TRUE(told.empty());
  ASSERT_TRUE(a.catalog->DropTable("default", "t1", false).ok());
  ASSERT_TRUE(a.catalog->CreateTable(Table("t3"), false).ok());
  ASSERT_TRUE(b.catalog->Refresh().ok());
  EXPECT_EQ(told, std::vector<std::string>{"default:t1#1"});
  ASSERT_TRUE(b.catalog->Refresh().ok());  // told once
  EXPECT_EQ(told.size(), 1u);
  // Dropped while b was away: told as b takes the shared catalog again.
  b.catalog.reset();
  ASSERT_TRUE(a.catalog->DropTable("default", "t2", false).ok());
  b.catalog = std::move(catalog::Catalog::Open(*b.store, dir_ + "/goneb/storage")).value();
  b.catalog->SetOnTablesGone(record);
  ASSERT_TRUE(b.catalog->Share(b.shared.get()).ok());
  EXPECT_EQ(told, (std::vector<std::string>{"default:t1#1", "default:t2#2"}));
}

TEST_F(EtcdCatalogTest, ChangesMadeAtOnceOnTwoNodesAreAllKept) {
  Node a = Open("a", "race");
  Node b = Open("b", "race");
  ASSERT_TRUE(a.catalog->Share(a.shared.get()).ok());
  ASSERT_TRUE(b.catalog->Share(b.shared.get()).ok());
  constexpr int kEach = 25;
  auto make = [](catalog::Catalog* c, const std::string& prefix) {
    for (int i = 0; i < kEach; ++i) {
      auto made = c->CreateTable(Table(prefix + std::to_string(i)), false);
      EXPECT_TRUE(made.ok()) << made.status().message();
    }
  };
  std::thread on_a(make, a.catalog.get(), "a");
  std::thread on_b(make, b.catalog.get(), "b");
  on_a.join();
  on_b.join();
  ASSERT_TRUE(a.catalog->Refresh().ok());
  ASSERT_TRUE(b.catalog->Refresh().ok());
  EXPECT_EQ(Tables(*a.catalog), Tables(*b.catalog));
  // Every table, each with a number of its own.
  std::set<uint64_t> numbers;
  for (const auto& [id, t] : a.catalog->snapshot()->tables) numbers.insert(t.table_num);
  EXPECT_EQ(a.catalog->snapshot()->tables.size(), 2u * kEach);
  EXPECT_EQ(numbers.size(), 2u * kEach);
}

TEST(PrefixEnd, IsTheFirstKeyPastThePrefix) {
  EXPECT_EQ(PrefixEnd("/a/"), "/a0");
  EXPECT_EQ(PrefixEnd("ab\xff"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff")), std::string(1, '\0'));
}

}  // namespace
}  // namespace kalam::cluster
