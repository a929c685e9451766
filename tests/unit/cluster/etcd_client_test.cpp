// EtcdClient against a real etcd (Debian's etcd-server, one member started here).
#include "cluster/etcd_client.h"
#include "loopback.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace kalam::cluster {
namespace {

using std::chrono::milliseconds;

class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/kalamdb-etcd-unit-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    url_ = "http://127.0.0.1:" + std::to_string(FreePort());
    const std::string peer = "http://127.0.0.1:" + std::to_string(FreePort());
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
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "etcd did not start";
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  static void TearDownTestSuite() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
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

TEST(PrefixEnd, IsTheFirstKeyPastThePrefix) {
  EXPECT_EQ(PrefixEnd("/a/"), "/a0");
  EXPECT_EQ(PrefixEnd("ab\xff"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff")), std::string(1, '\0'));
}

}  // namespace
}  // namespace kalam::cluster
