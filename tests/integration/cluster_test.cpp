// Cluster mode through real processes: a three-member etcd and kalamdb-server nodes that
// register in it; what they report through CLUSTER STATUS, CLUSTER LIST and
// system.cluster_nodes over HTTP; and the starts they refuse.
#include <signal.h>

#include <iostream>
#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "../unit/temp_dir.h"
#include "client/ws_client.h"
#include "common/json_text.h"
#include "cluster_nodes.h"
#include "etcd_process.h"
#include "server_process.h"

namespace kalam::testing {
namespace {

// Runs a Python script (psycopg clients) for at most timeout_secs: its exit status and
// what it printed (both streams).
std::pair<int, std::string> RunPython(const std::string& script, int timeout_secs) {
  char dir_pattern[] = "/tmp/kalamdb-psycopg-XXXXXX";
  const std::string dir = ::mkdtemp(dir_pattern);
  std::ofstream(dir + "/client.py") << script;
  const int status = std::system(("timeout " + std::to_string(timeout_secs) + " /usr/bin/python3 " + dir +
                                  "/client.py >" + dir + "/out 2>&1")
                                     .c_str());
  std::string out = ReadFile(dir + "/out");
  std::filesystem::remove_all(dir);
  return {status, std::move(out)};
}

namespace json = boost::json;

std::string Text(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

// Row i of a result as an object: column name -> value.
json::object RowObject(const SqlResponse& r, size_t i = 0) {
  const auto& schema = r.result(0).at("schema").as_array();
  const auto& row = r.rows().at(i).as_array();
  json::object out;
  for (size_t c = 0; c < schema.size(); ++c) out[schema[c].at("name").as_string()] = row.at(c);
  return out;
}

// CLUSTER LIST through this node: node_id -> {address, state}.
std::map<std::string, std::pair<std::string, std::string>> Nodes(const ServerProcess& server) {
  auto http = server.Client();
  auto r = Sql(http, RootAuth(), "CLUSTER LIST");
  std::map<std::string, std::pair<std::string, std::string>> out;
  if (r.status != 200) return out;
  for (size_t i = 0; i < r.rows().size(); ++i) {
    const json::object o = RowObject(r, i);
    out[Text(o.at("node_id"))] = {Text(o.at("address")), Text(o.at("state"))};
  }
  return out;
}

std::string Address(const ServerProcess& server) { return "127.0.0.1:" + std::to_string(server.port()); }

TEST(Cluster, AStandaloneServerListsItselfAlone) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  auto status = Sql(http, RootAuth(), "CLUSTER STATUS");
  ASSERT_EQ(status.status, 200) << json::serialize(status.body);
  const json::object row = RowObject(status);
  EXPECT_EQ(Text(row.at("mode")), "standalone");
  EXPECT_EQ(row.at("nodes").as_int64(), 1);
  EXPECT_EQ(row.at("nodes_alive").as_int64(), 1);
  EXPECT_TRUE(row.at("etcd").is_null());
  auto nodes = Nodes(server);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes["node-1"], std::make_pair(Address(server), std::string("alive")));
  auto shards = Sql(http, RootAuth(), "SELECT count(*) AS n FROM system.shards");
  ASSERT_EQ(shards.status, 200);
  EXPECT_EQ(RowObject(shards).at("n").as_int64(), 0);

  // Like the table, the statements are for dba and system.
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE USER 'plain' WITH PASSWORD 'plain-password' ROLE user").status, 200);
  for (const char* sql : {"CLUSTER STATUS", "CLUSTER LIST", "SELECT * FROM system.cluster_nodes",
                          "SELECT * FROM system.shards"}) {
    auto denied = Sql(http, client::BasicAuth("plain", "plain-password"), sql);
    EXPECT_EQ(denied.error_code(), "PERMISSION_DENIED") << sql;
  }
  EXPECT_EQ(Sql(http, RootAuth(), "CLUSTER FOO").error_code(), "INVALID_SQL");
}

class ClusterTest : public WithEtcd<::testing::Test> {
 protected:
  // A node of this test's cluster (the etcd prefix is the test's own).
  std::unique_ptr<ServerProcess> Node(const std::string& node_id,
                                      std::map<std::string, std::string> keys = {}) {
    keys["etcd_prefix"] = std::string("\"/") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/\"";
    return std::make_unique<ServerProcess>(ClusterNodeOptions(node_id, etcd_->EndpointsToml(), keys));
  }
  // Starts the nodes named ids and returns them once every shard has a leader and the
  // leaders are spread over them (none if that takes more than 30 s).
  std::vector<ServerProcess*> StartBalanced(std::initializer_list<const char*> ids,
                                           const std::map<std::string, std::string>& keys = {}) {
    std::vector<ServerProcess*> nodes;
    for (const char* id : ids) {
      started_.push_back(Node(id, keys));
      started_.back()->Start();
      nodes.push_back(started_.back().get());
    }
    if (!WaitUntil([&] { return Balanced(nodes, 8); }, std::chrono::seconds(30))) return {};
    return nodes;
  }
  std::vector<std::unique_ptr<ServerProcess>> started_;
};

TEST_F(ClusterTest, EveryNodeSeesEveryOther) {
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (const char* id : {"n1", "n2", "n3"}) {
    nodes.push_back(Node(id));
    nodes.back()->Start();
  }
  for (const auto& node : nodes) {
    // A node lists the others once its next heartbeat has read them.
    std::map<std::string, std::pair<std::string, std::string>> seen;
    EXPECT_TRUE(WaitUntil([&] { return (seen = Nodes(*node)).size() == 3; }, std::chrono::seconds(10)));
    EXPECT_EQ(seen["n1"], std::make_pair(Address(*nodes[0]), std::string("alive")));
    EXPECT_EQ(seen["n2"], std::make_pair(Address(*nodes[1]), std::string("alive")));
    EXPECT_EQ(seen["n3"], std::make_pair(Address(*nodes[2]), std::string("alive")));
    auto http = node->Client();
    auto status = Sql(http, RootAuth(), "CLUSTER STATUS");
    ASSERT_EQ(status.status, 200) << json::serialize(status.body);
    const json::object row = RowObject(status);
    EXPECT_EQ(Text(row.at("mode")), "cluster");
    EXPECT_EQ(row.at("nodes_alive").as_int64(), 3);
    EXPECT_EQ(row.at("shards").as_int64(), 8);
    EXPECT_EQ(row.at("replication_factor").as_int64(), 3);
    EXPECT_EQ(Text(row.at("etcd")).rfind("ok (", 0), 0u) << Text(row.at("etcd"));
    const int64_t minute_ago =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
        60'000'000;
    auto heartbeat = Sql(http, RootAuth(),
                         "SELECT count(*) AS n FROM system.cluster_nodes WHERE epoch_us(last_heartbeat) > " +
                             std::to_string(minute_ago));
    ASSERT_EQ(heartbeat.status, 200) << json::serialize(heartbeat.body);
    EXPECT_EQ(RowObject(heartbeat).at("n").as_int64(), 3);
  }
  // The shard map: 8 shards, each on all three nodes (replication_factor 3).
  auto http = nodes[1]->Client();
  auto full = [&] {
    auto r = Sql(http, RootAuth(),
                 "SELECT count(*) AS n FROM system.shards "
                 "WHERE replicas = '[\"n1\",\"n2\",\"n3\"]' AND leader IS NULL");
    return r.status == 200 && RowObject(r).at("n").as_int64() == 8;
  };
  EXPECT_TRUE(WaitUntil(full, std::chrono::seconds(15)));
  auto held = Sql(http, RootAuth(), "SELECT node_id, shards_held FROM system.cluster_nodes ORDER BY node_id");
  ASSERT_EQ(held.status, 200);
  ASSERT_EQ(held.rows().size(), 3u);
  for (size_t i = 0; i < held.rows().size(); ++i) EXPECT_EQ(RowObject(held, i).at("shards_held").as_int64(), 8);
}

TEST_F(ClusterTest, AKilledNodeIsDownUntilItComesBack) {
  auto a = Node("a");
  auto b = Node("b");
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitUntil([&] { return Nodes(*a)["b"].second == "alive"; }, std::chrono::seconds(10)));
  b->Stop(SIGKILL);
  // Its lease lapses heartbeat_ttl_secs (2 s) after its last renewal.
  EXPECT_TRUE(WaitUntil([&] { return Nodes(*a)["b"].second == "down"; }, std::chrono::seconds(15)));
  EXPECT_EQ(Nodes(*a).size(), 2u);  // a node that left stays listed
  b->Start();                        // the same node_id and data, on a new port
  std::map<std::string, std::pair<std::string, std::string>> seen;
  EXPECT_TRUE(WaitUntil([&] { return (seen = Nodes(*a))["b"].second == "alive"; }, std::chrono::seconds(15)));
  EXPECT_EQ(seen["b"].first, Address(*b));
}

TEST_F(ClusterTest, EveryShardsRaftGroupElectsALeaderAndAnotherWhenItIsKilled) {
  // The nodes join one after another: the first founds every shard's group alone, the
  // others are added to each group by its leader.
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (const char* id : {"r1", "r2", "r3"}) {
    nodes.push_back(Node(id));
    nodes.back()->Start();
  }
  std::vector<ServerProcess*> all = {nodes[0].get(), nodes[1].get(), nodes[2].get()};
  std::map<int64_t, std::string> leaders;
  ASSERT_TRUE(WaitUntil([&] { return !(leaders = AgreedLeaders(all, 8)).empty(); }, std::chrono::seconds(30)));
  {
    // CLUSTER LIST counts the shards each node leads.
    auto http = nodes[1]->Client();
    auto r = Sql(http, RootAuth(), "SELECT sum(shards_led) AS led, sum(shards_held) AS held FROM system.cluster_nodes");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_EQ(RowObject(r).at("led").as_int64(), 8);
    EXPECT_EQ(RowObject(r).at("held").as_int64(), 24);
  }
  // The first node founded every group and led them all: leadership spreads.
  ASSERT_TRUE(WaitUntil([&] { return Balanced(all, 8); }, std::chrono::seconds(20)));
  leaders = AgreedLeaders(all, 8);
  ASSERT_FALSE(leaders.empty());
  // SIGKILL the node leading shard 0: the two others elect leaders for its shards.
  const std::string lost = leaders[0];
  const size_t lost_index = lost == "r1" ? 0 : lost == "r2" ? 1 : 2;
  std::vector<ServerProcess*> survivors;
  for (size_t i = 0; i < 3; ++i) {
    if (i != lost_index) survivors.push_back(all[i]);
  }
  const auto killed_at = std::chrono::steady_clock::now();
  nodes[lost_index]->Stop(SIGKILL);
  // Survivors name the lost node as leader until they notice; then each of its shards gets
  // another (whose lag counts the entries the lost replica lacks).
  std::map<int64_t, std::string> after;
  ASSERT_TRUE(WaitUntil(
      [&] {
        after = AgreedLeaders(survivors, 8, false);
        if (after.empty()) return false;
        for (const auto& [shard, leader] : after) {
          if (leader == lost) return false;
        }
        return true;
      },
      std::chrono::seconds(15)))
      << [&] {
           std::string out;
           for (ServerProcess* node : survivors) {
             auto http = node->Client();
             out += json::serialize(Sql(http, RootAuth(), "SELECT * FROM system.shards").body) + "\n";
           }
           return out;
         }();
  const auto failover = std::chrono::steady_clock::now() - killed_at;
  std::printf("shard failover after SIGKILL, as seen through SQL: %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(failover).count()));
  EXPECT_LT(failover, std::chrono::seconds(5))
      << std::chrono::duration_cast<std::chrono::milliseconds>(failover).count() << " ms";
  // Back with its Raft logs: it rejoins every group and all three agree again.
  nodes[lost_index]->Start();
  EXPECT_TRUE(WaitUntil([&] { return !AgreedLeaders(all, 8).empty(); }, std::chrono::seconds(30)));
  // And it gets its share of leaders back.
  EXPECT_TRUE(WaitUntil([&] { return Balanced(all, 8); }, std::chrono::seconds(20)));
}

// The tables of namespace app, as this node's system.tables lists them ("" when it can't be
// read).
std::string AppTables(const ServerProcess& server) {
  auto http = server.Client();
  auto r = Sql(http, RootAuth(), "SELECT table_name FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name");
  if (r.status != 200) return "";
  std::string names;
  for (const auto& row : r.rows()) names += Text(row.as_array().at(0)) + " ";
  return names;
}

TEST_F(ClusterTest, TheCatalogIsEveryNodes) {
  std::vector<std::unique_ptr<ServerProcess>> nodes;
  for (const char* id : {"a", "b", "c"}) {
    nodes.push_back(Node(id));
    nodes.back()->Start();
  }
  auto a = nodes[0]->Client();
  auto b = nodes[1]->Client();
  auto c = nodes[2]->Client();
  // DDL and users made on one node show on the others.
  ASSERT_EQ(Sql(a, RootAuth(), "CREATE NAMESPACE app; CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  ASSERT_EQ(Sql(b, RootAuth(), "CREATE USER 'ann' WITH PASSWORD 'ann-password' ROLE user").status, 200);
  for (const auto& node : nodes) {
    EXPECT_TRUE(WaitUntil([&] { return AppTables(*node) == "notes "; }, std::chrono::seconds(5))) << AppTables(*node);
  }
  const std::string ann = client::BasicAuth("ann", "ann-password");
  EXPECT_TRUE(WaitUntil([&] { return Sql(c, ann, "SELECT 1").status == 200; }, std::chrono::seconds(5)));
  // The namespace's tables are counted where they were not made.
  auto listed = Sql(c, RootAuth(), "SELECT table_count FROM system.namespaces WHERE name = 'app'");
  ASSERT_EQ(listed.status, 200) << json::serialize(listed.body);
  EXPECT_EQ(json::serialize(listed.rows()), "[[1]]");

  // Tables made on every node at once: none lost, each made once.
  std::vector<std::thread> makers;
  std::atomic<int> made{0};
  for (size_t n = 0; n < nodes.size(); ++n) {
    makers.emplace_back([&, n] {
      auto http = nodes[n]->Client();
      for (int i = 0; i < 6; ++i) {
        auto r = Sql(http, RootAuth(), "CREATE SHARED TABLE app.t" + std::to_string(n) + std::to_string(i) + " (id BIGINT PRIMARY KEY)");
        if (r.status == 200) ++made;
        EXPECT_EQ(r.status, 200) << json::serialize(r.body);
      }
    });
  }
  for (auto& t : makers) t.join();
  EXPECT_EQ(made.load(), 18);
  const std::string all = "notes t00 t01 t02 t03 t04 t05 t10 t11 t12 t13 t14 t15 t20 t21 t22 t23 t24 t25 ";
  for (const auto& node : nodes) {
    EXPECT_TRUE(WaitUntil([&] { return AppTables(*node) == all; }, std::chrono::seconds(5))) << AppTables(*node);
  }
  // One name made on two nodes at once: one of them makes it.
  std::atomic<int> ok{0};
  std::atomic<int> exists{0};
  std::vector<std::thread> racers;
  for (size_t n = 0; n < 2; ++n) {
    racers.emplace_back([&, n] {
      auto http = nodes[n]->Client();
      auto r = Sql(http, RootAuth(), "CREATE SHARED TABLE app.same (id BIGINT PRIMARY KEY)");
      if (r.status == 200) ++ok;
      if (r.error_code() == "ALREADY_EXISTS") ++exists;
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), 1);

  // A dropped table and a changed password, everywhere.
  ASSERT_EQ(Sql(c, RootAuth(), "DROP TABLE app.same").status, 200);
  ASSERT_EQ(Sql(a, RootAuth(), "ALTER USER 'ann' SET PASSWORD 'ann-new-password'").status, 200);
  EXPECT_TRUE(WaitUntil([&] { return AppTables(*nodes[1]) == all; }, std::chrono::seconds(5))) << AppTables(*nodes[1]);
  EXPECT_TRUE(WaitUntil([&] { return Sql(b, ann, "SELECT 1").error_code() == "INVALID_CREDENTIALS"; }, std::chrono::seconds(5)));
  EXPECT_EQ(Sql(b, client::BasicAuth("ann", "ann-new-password"), "SELECT 1").status, 200);

  // A node that comes back takes what changed while it was away.
  nodes[2]->Stop(SIGKILL);
  ASSERT_EQ(Sql(a, RootAuth(), "CREATE SHARED TABLE app.later (id BIGINT PRIMARY KEY)").status, 200);
  nodes[2]->Start();
  EXPECT_EQ(AppTables(*nodes[2]), "later " + all);
}

// Runs sql on each node in turn, asking it not to send the write on, until one takes it
// (the leader of the shard it writes); the others must say they do not lead it. The index
// of the node that took it, -1 if none.
int WriteThroughLeader(const std::vector<ServerProcess*>& nodes, const std::string& auth, const std::string& sql) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto http = nodes[i]->Client();
    // The header a node sends a write on with: the node answers it itself.
    auto sent = http.Send("POST", "/v1/api/sql", "{\"sql\":" + JsonString(sql) + "}",
                          {{"Authorization", auth}, {"X-Kalam-Forwarded-By", "test"}});
    if (!sent.ok()) return -1;
    SqlResponse r{sent->status, json::parse(sent->body)};
    if (r.status == 200) return static_cast<int>(i);
    EXPECT_EQ(r.error_code(), "SERVICE_UNAVAILABLE") << json::serialize(r.body);
  }
  return -1;
}

// A query's rows through this node, as JSON text ("" when it fails).
std::string RowsText(const ServerProcess& server, const std::string& auth, const std::string& sql) {
  auto http = server.Client();
  auto r = Sql(http, auth, sql);
  return r.status == 200 ? json::serialize(r.rows()) : "";
}

TEST_F(ClusterTest, RowsGoThroughTheirShardsLogToEveryReplica) {
  const std::vector<ServerProcess*> nodes = StartBalanced({"w1", "w2", "w3"});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  auto first = nodes[0]->Client();
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT); "
                                   "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE USER 'ann' WITH PASSWORD 'ann-password' ROLE user").status, 200);
  for (ServerProcess* node : nodes) {
    ASSERT_TRUE(WaitUntil([&] { return AppTables(*node) == "items notes "; }, std::chrono::seconds(5)));
  }

  // Only the leader of the table's shard writes its rows...
  const int leader = WriteThroughLeader(nodes, RootAuth(), "INSERT INTO app.items VALUES (0, 'item 0')");
  ASSERT_GE(leader, 0);
  EXPECT_EQ(WriteThroughLeader(nodes, RootAuth(), "INSERT INTO app.items VALUES (1, 'item 1')"), leader);
  const int follower = (leader + 1) % 3;
  // ...but every node takes them, sending them on to the leader.
  for (int i = 2; i < 20; ++i) {
    auto http = nodes[i % 3]->Client();
    auto r = Sql(http, RootAuth(), "INSERT INTO app.items VALUES (" + std::to_string(i) + ", 'item " + std::to_string(i) + "')");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_EQ(r.result(0).at("row_count").as_int64(), 1);
  }
  auto via = nodes[follower]->Client();
  ASSERT_EQ(Sql(via, RootAuth(), "UPDATE app.items SET body = 'changed' WHERE id = 3").status, 200);
  ASSERT_EQ(Sql(via, RootAuth(), "DELETE FROM app.items WHERE id = 4").status, 200);
  // A batch is sent on from its first write: what ran before stays this node's answer,
  // a transaction goes whole, and the index of a failed statement counts from the batch's
  // start.
  auto batch = Sql(via, RootAuth(), "SELECT 1 AS one; BEGIN; INSERT INTO app.items VALUES (50, 'tx'); "
                                    "INSERT INTO app.items VALUES (51, 'tx'); COMMIT");
  ASSERT_EQ(batch.status, 200) << json::serialize(batch.body);
  EXPECT_EQ(batch.body.at("results").as_array().size(), 5u) << json::serialize(batch.body);
  auto failed = Sql(via, RootAuth(), "SELECT 1 AS one; INSERT INTO app.items VALUES (50, 'again')");
  EXPECT_EQ(failed.error_code(), "CONSTRAINT_VIOLATION") << json::serialize(failed.body);
  EXPECT_EQ(failed.body.at("error").at("statement_index").as_int64(), 2);
  EXPECT_EQ(failed.body.at("results").as_array().size(), 1u);
  const std::string query = "SELECT id, body, _seq FROM app.items ORDER BY id";
  const std::string on_leader = RowsText(*nodes[leader], RootAuth(), query);
  ASSERT_NE(on_leader.find("[3,\"changed\","), std::string::npos) << on_leader;
  EXPECT_EQ(on_leader.find("[4,"), std::string::npos) << on_leader;
  EXPECT_NE(on_leader.find("[51,\"tx\","), std::string::npos) << on_leader;
  for (ServerProcess* node : nodes) {
    // The same rows with the same _seq.
    EXPECT_TRUE(WaitUntil([&] { return ReplicaRows(*node, RootAuth(), query) == on_leader; }, std::chrono::seconds(5)))
        << ReplicaRows(*node, RootAuth(), query);
  }
  // A user's rows go through the shard of that user, from any node, with a token any
  // node signed.
  auto login = LogIn(first, "ann", "ann-password");
  ASSERT_EQ(login.status, 200) << json::serialize(login.body);
  const std::string ann = "Bearer " + std::string(login.body.at("access_token").as_string());
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto http = nodes[i]->Client();
    auto r = Sql(http, ann, "INSERT INTO app.notes VALUES (" + std::to_string(i) + ", 'mine')");
    EXPECT_EQ(r.status, 200) << json::serialize(r.body);
  }
  for (ServerProcess* node : nodes) {
    EXPECT_TRUE(WaitUntil([&] { return ReplicaRows(*node, ann, "SELECT count(*) FROM app.notes") == "[[3]]"; },
                          std::chrono::seconds(5)));
  }
  // A transaction is the rows of one shard: across two SHARED tables of different shards
  // it is refused whole; within one it is atomic.
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE SHARED TABLE app.s0 (id BIGINT PRIMARY KEY); CREATE SHARED TABLE app.s1 (id BIGINT PRIMARY KEY); "
                                   "CREATE SHARED TABLE app.s2 (id BIGINT PRIMARY KEY); CREATE SHARED TABLE app.s3 (id BIGINT PRIMARY KEY); "
                                   "CREATE SHARED TABLE app.s4 (id BIGINT PRIMARY KEY); CREATE SHARED TABLE app.s5 (id BIGINT PRIMARY KEY)").status, 200);
  ASSERT_TRUE(WaitUntil([&] { return AppTables(*nodes[follower]).find("s5") != std::string::npos; }, std::chrono::seconds(5)));
  // Through every node (so, most likely, one leading neither shard, one leading the
  // first, and one the second: the batch is sent on from the first refused write).
  int across = 0;  // the tables whose shard is not app.s0's
  for (int t = 1; t <= 5; ++t) {
    bool same_shard = false;
    for (size_t n = 0; n < nodes.size(); ++n) {
      auto http = nodes[n]->Client();
      const std::string s0_id = std::to_string(t * 10 + static_cast<int>(n));
      auto r = Sql(http, RootAuth(), "BEGIN; INSERT INTO app.s0 VALUES (" + s0_id + "); INSERT INTO app.s" +
                                         std::to_string(t) + " VALUES (" + std::to_string(n + 1) + "); COMMIT");
      if (r.status == 200) {  // the same shard (1 in 8)
        same_shard = true;
        continue;
      }
      EXPECT_FALSE(same_shard) << "app.s" << t;
      EXPECT_EQ(r.error_code(), "UNSUPPORTED") << "app.s" << t << " through node " << n << ": " << json::serialize(r.body);
      // Nothing of it was written, on either side.
      EXPECT_EQ(RowsText(*nodes[follower], RootAuth(), "SELECT count(*) FROM app.s0 WHERE id = " + s0_id), "[[0]]");
      EXPECT_EQ(RowsText(*nodes[follower], RootAuth(), "SELECT count(*) FROM app.s" + std::to_string(t)), "[[0]]");
    }
    if (!same_shard) ++across;
  }
  EXPECT_GT(across, 0) << "six SHARED tables all in one of 8 shards";
  auto atomic = Sql(via, RootAuth(), "BEGIN; INSERT INTO app.s0 VALUES (100); INSERT INTO app.s0 VALUES (100); COMMIT");
  EXPECT_NE(atomic.status, 200);
  EXPECT_EQ(RowsText(*nodes[leader], RootAuth(), "SELECT count(*) FROM app.s0 WHERE id = 100"), "[[0]]");
  // Without shared storage a flush would make one replica's files: refused, naming the
  // setting that gives the cluster one.
  auto refused = Sql(first, RootAuth(), "FLUSH TABLE app.items");
  EXPECT_EQ(refused.error_code(), "UNSUPPORTED");
  EXPECT_NE(json::serialize(refused.body).find("cluster.shared_storage_path"), std::string::npos)
      << json::serialize(refused.body);

  // The leader killed: another replica takes the writes within seconds, and the node,
  // back, catches up.
  nodes[leader]->Stop(SIGKILL);
  std::vector<ServerProcess*> survivors;
  for (int i = 0; i < 3; ++i) {
    if (i != leader) survivors.push_back(nodes[i]);
  }
  const auto killed_at = std::chrono::steady_clock::now();
  auto survivor = survivors[0]->Client();
  ASSERT_TRUE(WaitUntil([&] { return Sql(survivor, RootAuth(), "INSERT INTO app.items VALUES (100, 'after')").status == 200; },
                        std::chrono::seconds(10)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  std::cout << "writes resumed " << seconds << " s after the leader was killed\n";
  EXPECT_LT(seconds, 5.0);
  std::string after;
  ASSERT_TRUE(WaitUntil([&] { return (after = RowsText(*survivors[0], RootAuth(), query)).find("[100,\"after\",") != std::string::npos; },
                        std::chrono::seconds(5)));
  EXPECT_EQ(after.substr(0, on_leader.size() - 1), on_leader.substr(0, on_leader.size() - 1));  // nothing lost
  nodes[leader]->Start();
  for (ServerProcess* node : nodes) {
    EXPECT_TRUE(WaitUntil([&] { return ReplicaRows(*node, RootAuth(), query) == after; }, std::chrono::seconds(10)))
        << ReplicaRows(*node, RootAuth(), query);
  }
}

// A subscriber's view over WebSocket: the ids it has been told of and the last _seq.
struct Subscriber {
  client::WsClient ws;
  std::set<int64_t> ids;
  int64_t last_seq = 0;
  int duplicates = 0;

  // Connects to node as auth and subscribes to sql, resuming after from_seq when not 0.
  bool Subscribe(const ServerProcess& node, const std::string& auth, const std::string& sql, int64_t from_seq) {
    if (!ws.Connect("127.0.0.1", node.port(), "/v1/ws", {{"Authorization", auth}}).ok()) return false;
    const std::string options = from_seq > 0 ? R"({"from_seq_id":)" + std::to_string(from_seq) + "}" : "{}";
    return ws.Send(R"({"type":"subscribe","subscription":{"id":"s","sql":)" + json::serialize(json::value(sql)) +
                   R"(,"options":)" + options + "}}")
        .ok();
  }
  // Reads what arrives for up to wait; false once the connection is closed.
  bool Read(std::chrono::milliseconds wait) {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      auto text = ws.Receive(std::chrono::milliseconds(50));
      if (!text) {
        if (ws.closed()) return false;
        continue;
      }
      const json::value m = json::parse(*text);
      const std::string type(m.at("type").as_string());
      if (type != "initial_data_batch" && type != "change") continue;
      for (const auto& row : m.at("rows").as_array()) {
        if (!ids.insert(row.at("id").as_int64()).second) ++duplicates;
        last_seq = std::max(last_seq, row.at("_seq").as_int64());
      }
    }
    return true;
  }
};

// Read-your-writes through any node: a change acknowledged by one node is seen by the
// very next statement, whichever node it goes to (no waiting): DDL (the other nodes take
// the catalog's change before it is acknowledged), users and passwords, rows (reads are
// made at the leader of their shard).
// The figures of SHOW STATS FOR TABLE table through this node's own replicas:
// "hot_rows cold_rows" ("" when it fails).
std::string HotAndCold(const ServerProcess& node, const std::string& table) {
  boost::system::error_code ec;
  const json::value rows = json::parse(ReplicaRows(node, RootAuth(), "SHOW STATS FOR TABLE " + table), ec);
  if (ec || !rows.is_array()) return "";
  std::map<std::string, std::string> stats;
  for (const json::value& row : rows.as_array()) stats[Text(row.at(0))] = Text(row.at(1));
  return stats["hot_rows"] + " " + stats["cold_rows"];
}

// The rows of sql through node, retried while the node refuses (a leader lost a moment
// ago); "" when it never answers within 10 s.
std::string AnsweredRows(const ServerProcess& node, const std::string& auth, const std::string& sql) {
  std::string rows;
  WaitUntil([&] { return !(rows = RowsText(node, auth, sql)).empty(); }, std::chrono::seconds(10));
  return rows;
}

// A flush job's figures ({} when its result is no JSON object).
json::object JobResult(const std::string& result) {
  boost::system::error_code ec;
  json::value v = json::parse(result, ec);
  return !ec && v.is_object() ? v.as_object() : json::object();
}

TEST_F(ClusterTest, FlushesWriteEachShardOnceToSharedStorageForEveryReplica) {
  TempDir shared;
  const std::vector<ServerProcess*> nodes =
      StartBalanced({"f1", "f2", "f3"}, {{"shared_storage_path", "\"" + shared.path() + "\""}});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  auto first = nodes[0]->Client();
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT); "
                                   "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  constexpr int kUsers = 12;
  std::string users;
  for (int u = 0; u < kUsers; ++u) {
    users += "CREATE USER 'u" + std::to_string(u) + "' WITH PASSWORD 'u" + std::to_string(u) + "-password' ROLE user; ";
  }
  ASSERT_EQ(Sql(first, RootAuth(), users).status, 200);
  auto user = [](int u) { return client::BasicAuth("u" + std::to_string(u), "u" + std::to_string(u) + "-password"); };
  std::mt19937 random(7);
  for (int i = 0; i < 20; ++i) {
    auto http = nodes[random() % 3]->Client();
    ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.items VALUES (" + std::to_string(i) + ", 'item " + std::to_string(i) + "')").status, 200);
  }
  for (int u = 0; u < kUsers; ++u) {
    auto http = nodes[random() % 3]->Client();
    ASSERT_EQ(Sql(http, user(u), "INSERT INTO app.notes SELECT range, 'note ' || range FROM range(10)").status, 200);
  }
  const std::string items = "SELECT id, body, _seq FROM app.items ORDER BY id";
  const std::string notes = "SELECT id, body, _seq FROM app.notes ORDER BY id";
  // Every replica answers as the leaders do, from hot rows, then from cold segments.
  std::vector<ServerProcess*> serving = nodes;
  // root's query reads every user's rows: the union of what each user reads.
  auto every_users_rows = [](const std::vector<std::string>& per_user) {
    std::multiset<std::string> rows;
    for (const std::string& text : per_user) {
      boost::system::error_code ec;
      const json::value v = json::parse(text, ec);
      if (ec || !v.is_array()) continue;
      for (const json::value& row : v.as_array()) rows.insert(json::serialize(row));
    }
    return rows;
  };
  auto every_replica_answers = [&](const std::string& items_rows, const std::vector<std::string>& notes_rows) {
    const std::multiset<std::string> all_notes = every_users_rows(notes_rows);
    EXPECT_GE(all_notes.size(), static_cast<size_t>(kUsers * 10 - 1));  // user 5 deletes one later
    for (ServerProcess* node : serving) {
      EXPECT_TRUE(WaitUntil([&] { return every_users_rows({RowsText(*node, RootAuth(), notes)}) == all_notes; },
                            std::chrono::seconds(5)))
          << "every user's rows through " << node->port() << ": " << RowsText(*node, RootAuth(), notes);
      EXPECT_TRUE(WaitUntil([&] { return ReplicaRows(*node, RootAuth(), items) == items_rows; }, std::chrono::seconds(5)))
          << ReplicaRows(*node, RootAuth(), items) << " on " << node->port();
      for (int u = 0; u < kUsers; ++u) {
        EXPECT_TRUE(WaitUntil([&] { return ReplicaRows(*node, user(u), notes) == notes_rows[u]; }, std::chrono::seconds(5)))
            << "user " << u << " on " << node->port() << ": " << ReplicaRows(*node, user(u), notes) << "\nexpected "
            << notes_rows[u];
      }
    }
  };
  std::string items_rows = AnsweredRows(*nodes[1], RootAuth(), items);
  std::vector<std::string> notes_rows;
  for (int u = 0; u < kUsers; ++u) notes_rows.push_back(AnsweredRows(*nodes[2], user(u), notes));
  ASSERT_NE(items_rows.find("[19,\"item 19\","), std::string::npos) << items_rows;
  ASSERT_NE(notes_rows[5].find("[9,\"note 9\","), std::string::npos) << notes_rows[5];
  every_replica_answers(items_rows, notes_rows);

  // One FLUSH through one node flushes every shard, each by its leader: the rows leave
  // the hot store of every replica, and the segments are on the shared storage once.
  const json::object flushed = JobResult(RunJob(first, "FLUSH TABLE app.notes"));
  ASSERT_TRUE(flushed.contains("rows_flushed")) << json::serialize(flushed);
  EXPECT_EQ(flushed.at("rows_flushed").as_int64(), kUsers * 10) << json::serialize(flushed);
  EXPECT_EQ(flushed.at("scopes").as_int64(), kUsers) << json::serialize(flushed);
  EXPECT_GE(flushed.at("nodes").as_array().size(), 2u) << json::serialize(flushed);
  auto via_follower = nodes[1]->Client();
  const json::object items_flushed = JobResult(RunJob(via_follower, "FLUSH TABLE app.items"));
  ASSERT_TRUE(items_flushed.contains("rows_flushed")) << json::serialize(items_flushed);
  EXPECT_EQ(items_flushed.at("rows_flushed").as_int64(), 20);
  EXPECT_EQ(items_flushed.at("nodes").as_array().size(), 1u) << "a SHARED table is one shard's";
  for (ServerProcess* node : nodes) {
    EXPECT_TRUE(WaitUntil([&] { return HotAndCold(*node, "app.items") == "0 20"; }, std::chrono::seconds(5)))
        << HotAndCold(*node, "app.items");
    EXPECT_TRUE(WaitUntil([&] { return HotAndCold(*node, "app.notes") == "0 " + std::to_string(kUsers * 10); },
                          std::chrono::seconds(5)))
        << HotAndCold(*node, "app.notes");
  }
  size_t manifests = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(shared.path())) {
    if (entry.path().filename() == "manifest.json") ++manifests;
  }
  EXPECT_EQ(manifests, static_cast<size_t>(kUsers + 1));
  every_replica_answers(items_rows, notes_rows);

  // Flushed rows change through any node; a second flush takes the new versions.
  auto third = nodes[2]->Client();
  ASSERT_EQ(Sql(third, RootAuth(), "UPDATE app.items SET body = 'changed' WHERE id = 3; DELETE FROM app.items WHERE id = 4; "
                                   "INSERT INTO app.items VALUES (20, 'item 20')").status, 200);
  ASSERT_EQ(Sql(third, user(5), "UPDATE app.notes SET body = 'changed' WHERE id = 1; DELETE FROM app.notes WHERE id = 2").status, 200);
  items_rows = AnsweredRows(*nodes[0], RootAuth(), items);
  notes_rows[5] = AnsweredRows(*nodes[0], user(5), notes);
  ASSERT_NE(items_rows.find("[3,\"changed\","), std::string::npos);
  ASSERT_EQ(items_rows.find("[4,"), std::string::npos);
  ASSERT_NE(notes_rows[5].find("[1,\"changed\","), std::string::npos);
  every_replica_answers(items_rows, notes_rows);
  EXPECT_EQ(JobResult(RunJob(third, "FLUSH TABLE app.items")).at("rows_flushed").as_int64(), 3);
  every_replica_answers(items_rows, notes_rows);

  // The leader of the SHARED table's shard is killed: another replica leads, reads the
  // cold rows the old leader flushed, and flushes the shard itself.
  const std::string owner = items_flushed.at("nodes").as_array().at(0).as_string().c_str();
  const int killed = owner == "f1" ? 0 : owner == "f2" ? 1 : 2;
  nodes[killed]->Stop(SIGKILL);
  serving.erase(serving.begin() + killed);
  const int survivor = (killed + 1) % 3;
  auto http = nodes[survivor]->Client();
  ASSERT_TRUE(WaitUntil([&] { return RowsText(*nodes[survivor], RootAuth(), items) == items_rows; }, std::chrono::seconds(15)))
      << RowsText(*nodes[survivor], RootAuth(), items);
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.items VALUES (21, 'after the kill')").status, 200);
  items_rows = AnsweredRows(*nodes[survivor], RootAuth(), items);
  const json::object after = JobResult(RunJob(http, "FLUSH TABLE app.items"));
  ASSERT_TRUE(after.contains("rows_flushed")) << json::serialize(after);
  EXPECT_EQ(after.at("rows_flushed").as_int64(), 1);
  EXPECT_NE(after.at("nodes").as_array().at(0).as_string(), owner);
  every_replica_answers(items_rows, notes_rows);

  // Two flushes of one table at once through two nodes: each shard's rows are written
  // once, and no row is lost or doubled.
  for (int u = 0; u < kUsers; ++u) {
    ASSERT_EQ(Sql(http, user(u), "INSERT INTO app.notes SELECT 100 + range, 'later' FROM range(5)").status, 200);
    notes_rows[u] = AnsweredRows(*nodes[survivor], user(u), notes);
  }
  auto other = nodes[(killed + 2) % 3]->Client();
  auto started_a = Sql(http, RootAuth(), "FLUSH TABLE app.notes");
  auto started_b = Sql(other, RootAuth(), "FLUSH TABLE app.notes");
  ASSERT_EQ(started_a.status, 200);
  ASSERT_EQ(started_b.status, 200);
  int64_t total = 0;
  for (auto [client, started] : {std::pair{&http, &started_a}, std::pair{&other, &started_b}}) {
    const std::string job(started->rows().at(0).at(0).as_string());
    json::array row;
    ASSERT_TRUE(WaitUntil([&] {
      row = Sql(*client, RootAuth(), "SELECT status, result, error_message FROM system.jobs WHERE job_id = '" + job + "'").rows().at(0).as_array();
      return row.at(0).as_string() != "queued" && row.at(0).as_string() != "running";
    }, std::chrono::seconds(90)));
    ASSERT_EQ(row.at(0).as_string(), "completed") << json::serialize(row);
    total += JobResult(std::string(row.at(1).as_string())).at("rows_flushed").as_int64();
  }
  // The new rows and user 5's two changed ones. A shard whose leadership moved on while
  // its leader flushed it is flushed again by the next one: the first attempt's figures
  // are not counted, and its segment's rows are read once (the same _seq).
  EXPECT_LE(total, kUsers * 5 + 2);
  for (ServerProcess* node : serving) {
    EXPECT_TRUE(WaitUntil([&] { return HotAndCold(*node, "app.notes").starts_with("0 "); }, std::chrono::seconds(5)))
        << HotAndCold(*node, "app.notes");
  }
  every_replica_answers(items_rows, notes_rows);
}

TEST_F(ClusterTest, AStatementThroughAnyNodeSeesWhatAnotherAcknowledgedBeforeIt) {
  const std::vector<ServerProcess*> nodes = StartBalanced({"y1", "y2", "y3"});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  std::vector<client::HttpClient> http;
  for (ServerProcess* node : nodes) http.push_back(node->Client());
  ASSERT_EQ(Sql(http[0], RootAuth(), "CREATE NAMESPACE app").status, 200);
  for (int i = 0; i < 12; ++i) {
    client::HttpClient& one = http[i % 3];
    client::HttpClient& two = http[(i + 1) % 3];
    client::HttpClient& three = http[(i + 2) % 3];
    const std::string t = "app.s" + std::to_string(i);
    auto r = Sql(one, RootAuth(), "CREATE SHARED TABLE " + t + " (id BIGINT PRIMARY KEY, v TEXT)");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    r = Sql(two, RootAuth(), "INSERT INTO " + t + " VALUES (1, 'x')");
    ASSERT_EQ(r.status, 200) << i << ": " << json::serialize(r.body);
    // A point read (the engine's fast path) and a scan, each through a third node.
    EXPECT_EQ(RowsText(*nodes[(i + 2) % 3], RootAuth(), "SELECT v FROM " + t + " WHERE id = 1"), "[[\"x\"]]") << i;
    EXPECT_EQ(RowsText(*nodes[(i + 2) % 3], RootAuth(), "SELECT count(*) FROM " + t), "[[1]]") << i;
    r = Sql(one, RootAuth(), "ALTER TABLE " + t + " ADD COLUMN w TEXT");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    r = Sql(two, RootAuth(), "UPDATE " + t + " SET w = 'y' WHERE id = 1");
    ASSERT_EQ(r.status, 200) << i << ": " << json::serialize(r.body);
    EXPECT_EQ(RowsText(*nodes[(i + 2) % 3], RootAuth(), "SELECT v, w FROM " + t), "[[\"x\",\"y\"]]") << i;
    r = Sql(three, RootAuth(), "DROP TABLE " + t);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_NE(Sql(one, RootAuth(), "SELECT * FROM " + t).status, 200) << i;
    EXPECT_NE(Sql(two, RootAuth(), "INSERT INTO " + t + " VALUES (2, 'z')").status, 200) << i;
  }

  // A user made on one node signs in on the next; a row written through one node is read
  // through another at once.
  ASSERT_EQ(Sql(http[2], RootAuth(), "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  ASSERT_EQ(Sql(http[1], RootAuth(), "CREATE USER 'ann' WITH PASSWORD 'ann-password' ROLE user").status, 200);
  auto login = LogIn(http[0], "ann", "ann-password");
  ASSERT_EQ(login.status, 200) << json::serialize(login.body);
  const std::string ann = "Bearer " + std::string(login.body.at("access_token").as_string());
  std::minstd_rand pick(7);
  for (int i = 0; i < 60; ++i) {
    const size_t writer = pick() % 3, reader = (writer + 1 + pick() % 2) % 3;
    auto r = Sql(http[writer], ann, "INSERT INTO app.notes VALUES (" + std::to_string(i) + ", 'n')");
    ASSERT_EQ(r.status, 200) << i << ": " << json::serialize(r.body);
    EXPECT_EQ(RowsText(*nodes[reader], ann, "SELECT count(*) FROM app.notes"), "[[" + std::to_string(i + 1) + "]]") << i;
    EXPECT_EQ(RowsText(*nodes[reader], ann, "SELECT body FROM app.notes WHERE id = " + std::to_string(i)), "[[\"n\"]]") << i;
  }
  // A transaction that reads and writes through a node leading nothing of it goes whole to
  // the leader.
  for (size_t n = 0; n < 3; ++n) {
    const std::string id = std::to_string(100 + n);
    auto r = Sql(http[n], ann, "BEGIN; SELECT count(*) AS before FROM app.notes; INSERT INTO app.notes VALUES (" + id +
                                   ", 'tx'); SELECT count(*) AS after FROM app.notes; COMMIT");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    const auto& results = r.body.at("results").as_array();
    ASSERT_EQ(results.size(), 5u) << json::serialize(r.body);
    EXPECT_EQ(json::serialize(results[1].at("rows")), "[[" + std::to_string(60 + n) + "]]");
    EXPECT_EQ(json::serialize(results[3].at("rows")), "[[" + std::to_string(61 + n) + "]]");
  }
  // A new password holds on every node as soon as it is set; the old one and the tokens
  // signed before it are refused everywhere.
  ASSERT_EQ(Sql(http[1], RootAuth(), "ALTER USER 'ann' SET PASSWORD 'ann-new-password'").status, 200);
  for (client::HttpClient& node : http) {
    EXPECT_EQ(Sql(node, ann, "SELECT 1").status, 401);
    EXPECT_EQ(Sql(node, client::BasicAuth("ann", "ann-password"), "SELECT 1").status, 401);
    EXPECT_EQ(Sql(node, client::BasicAuth("ann", "ann-new-password"), "SELECT count(*) FROM app.notes").status, 200);
  }
  // DROP TABLE through one node: every other node forgets the table as it takes the change
  // (its rows, its files), and ends the table's subscriptions there.
  ASSERT_EQ(Sql(http[0], RootAuth(), "CREATE SHARED TABLE app.feed (id BIGINT PRIMARY KEY)").status, 200);
  client::WsClient feed;
  ASSERT_TRUE(feed.Connect("127.0.0.1", nodes[2]->port(), "/v1/ws", {{"Authorization", RootAuth()}}).ok());
  ASSERT_TRUE(feed.Send(R"({"type":"subscribe","subscription":{"id":"f","sql":"SELECT * FROM app.feed"}})").ok());
  auto next_of = [&](const std::string& type) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      auto text = feed.Receive(std::chrono::milliseconds(100));
      if (!text) continue;
      json::value m = json::parse(*text);
      if (m.at("type").as_string() == type) return m;
    }
    return json::value();
  };
  ASSERT_FALSE(next_of("subscription_ack").is_null());
  ASSERT_EQ(Sql(http[1], RootAuth(), "DROP TABLE app.feed").status, 200);
  const json::value ended = next_of("error");
  ASSERT_FALSE(ended.is_null()) << "the subscription on another node did not end";
  EXPECT_EQ(Text(ended.at("subscription_id")), "f");

  // The route between nodes takes only a node's token.
  auto refused = http[0].Send("POST", "/v1/cluster/catalog", R"({"version":1})",
                              {{"Content-Type", "application/json"}, {"Authorization", RootAuth()}});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401) << refused->body;
  refused = http[0].Send("POST", "/v1/cluster/catalog", R"({"version":1})", {{"Content-Type", "application/json"}, {"Authorization", ann}});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401) << refused->body;
}

// The Postgres wire through any node: an autocommit statement that another node's shard
// must take is sent on to its leader (for the session's user), reads see what any node
// acknowledged before them, and a transaction moves to the leader of the shard it writes.
TEST_F(ClusterTest, PostgresClientsWriteAndReadThroughAnyNode) {
  const std::vector<ServerProcess*> nodes = StartBalanced({"p1", "p2", "p3"});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  auto http = nodes[0]->Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT); "
                                  "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT); "
                                  "CREATE USER 'pat' WITH PASSWORD 'pat-password' ROLE user").status, 200);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string id = std::to_string(i + 1);
    const PsqlRun root = Psql(nodes[i]->pg_port(), "root", kRootPassword,
                              "INSERT INTO app.items VALUES (" + id + ", 'pg');\nSELECT count(*) FROM app.items;\n");
    EXPECT_EQ(root.exit_code, 0) << "node " << i << ": " << root.err;
    EXPECT_EQ(root.out, "INSERT 0 1\n" + id + "\n") << "node " << i << ": " << root.err;
    const PsqlRun pat = Psql(nodes[i]->pg_port(), "pat", "pat-password",
                             "INSERT INTO app.notes VALUES (" + id + ", 'mine');\nSELECT count(*) FROM app.notes;\n");
    EXPECT_EQ(pat.exit_code, 0) << "node " << i << ": " << pat.err;
    EXPECT_EQ(pat.out, "INSERT 0 1\n" + id + "\n") << "node " << i << ": " << pat.err;
  }
  // Statements with parameters (psycopg binds them server-side) through every node.
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string script =
        "import psycopg\n"
        "with psycopg.connect(host='127.0.0.1', port=" + std::to_string(nodes[i]->pg_port()) +
        ", user='pat', password='pat-password', dbname='kalam', autocommit=True) as c:\n"
        "    c.execute('INSERT INTO app.notes VALUES (%s, %s)', (" + std::to_string(10 + i) + ", 'bound'))\n"
        "    print(c.execute('SELECT count(*) FROM app.notes WHERE body = %s', ('bound',)).fetchone()[0])\n";
    const auto [status, out] = RunPython(script, 60);
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, std::to_string(i + 1) + "\n") << out;
  }
  // A transaction begun through any node commits: where another node leads the shard its
  // first write goes to, it moves there.
  for (size_t i = 0; i < nodes.size(); ++i) {
    const PsqlRun tx = Psql(nodes[i]->pg_port(), "root", kRootPassword,
                            "BEGIN;\nINSERT INTO app.items VALUES (" + std::to_string(100 + i) + ", 'tx');\nCOMMIT;\n");
    EXPECT_EQ(tx.exit_code, 0) << "node " << i << ": " << tx.err;
    EXPECT_EQ(tx.out, "BEGIN\nINSERT 0 1\nCOMMIT\n") << "node " << i << ": " << tx.err;
  }
  EXPECT_EQ(ReplicaRows(*nodes[2], RootAuth(), "SELECT count(*) FROM app.items"), "[[6]]");

  // Through every node, with psycopg (which begins transactions itself):
  // - a transaction reads, writes, reads its own write and commits (a user's rows too);
  // - one whose read was overwritten by another client before its write (which moves it
  //   where it was not led) fails with 40001, not a lost update, and changes nothing;
  // - an error in a moved transaction fails it (25P02 after) until ROLLBACK.
  std::string ports;
  for (ServerProcess* node : nodes) ports += std::to_string(node->pg_port()) + ",";
  const std::string script = std::string(
      "import psycopg\n"
      "ports = [") + ports + "]\n"
      "def connect(port, user, password, autocommit=False):\n"
      "    return psycopg.connect(host='127.0.0.1', port=port, user=user, password=password, dbname='kalam', autocommit=autocommit)\n"
      "for i, port in enumerate(ports):\n"
      "    with connect(port, 'root', '" + kRootPassword + "') as c:\n"
      "        before = c.execute('SELECT count(*) FROM app.items').fetchone()[0]\n"
      "        c.execute('INSERT INTO app.items VALUES (%s, %s)', (200 + i, 'moved'))\n"
      "        inside = c.execute('SELECT count(*) FROM app.items').fetchone()[0]\n"
      "        c.commit()\n"
      "        print('read-write', i, inside - before)\n"
      "    with connect(port, 'pat', 'pat-password') as c:\n"
      "        c.execute('SELECT 1')\n"
      "        c.execute('INSERT INTO app.notes VALUES (%s, %s)', (300 + i, 'moved'))\n"
      "        mine = c.execute('SELECT count(*) FROM app.notes WHERE id = %s', (300 + i,)).fetchone()[0]\n"
      "        c.commit()\n"
      "        print('user', i, mine)\n"
      "    other = connect(ports[(i + 1) % len(ports)], 'root', '" + kRootPassword + "', autocommit=True)\n"
      "    with connect(port, 'root', '" + kRootPassword + "') as c:\n"
      "        c.execute('SELECT body FROM app.items WHERE id = 1').fetchone()\n"
      "        other.execute('UPDATE app.items SET body = %s WHERE id = 1', ('other-' + str(i),))\n"
      "        try:\n"
      "            c.execute('UPDATE app.items SET body = %s WHERE id = 1', ('mine-' + str(i),))\n"
      "            c.commit()\n"
      "            print('conflict', i, 'committed')\n"
      "        except psycopg.Error as e:\n"
      "            c.rollback()\n"
      "            print('conflict', i, e.sqlstate)\n"
      "    print('body', i, other.execute('SELECT body FROM app.items WHERE id = 1').fetchone()[0])\n"
      "    other.close()\n"
      "    with connect(port, 'root', '" + kRootPassword + "') as c:\n"
      "        c.execute('SELECT 1')\n"
      "        states = []\n"
      "        for sql in ['INSERT INTO app.items VALUES (1, %s)', 'SELECT %s']:\n"
      "            try:\n"
      "                c.execute(sql, ('x',))\n"
      "                states.append('ok')\n"
      "            except psycopg.Error as e:\n"
      "                states.append(e.sqlstate)\n"
      "        c.rollback()\n"
      "        c.execute('INSERT INTO app.items VALUES (%s, %s)', (400 + i, 'after'))\n"
      "        c.commit()\n"
      "        print('failed', i, *states)\n";
  const auto [status, out] = RunPython(script, 120);
  EXPECT_EQ(status, 0) << out;
  std::string expected;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string n = std::to_string(i);
    expected += "read-write " + n + " 1\nuser " + n + " 1\nconflict " + n + " 40001\nbody " + n + " other-" + n +
                "\nfailed " + n + " 23505 25P02\n";
  }
  EXPECT_EQ(out, expected);
  EXPECT_EQ(ReplicaRows(*nodes[1], RootAuth(), "SELECT count(*) FROM app.items WHERE id >= 200"), "[[6]]");

  // A transaction that ran too much before its first write to move (more than a thousand
  // statements, which would all run again) keeps its refusal where the shard is not led.
  std::string long_transaction = "BEGIN;\n";
  for (int i = 0; i < 1001; ++i) long_transaction += "SELECT 1;\n";
  int long_committed = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const PsqlRun tx = Psql(nodes[i]->pg_port(), "root", kRootPassword,
                            long_transaction + "INSERT INTO app.items VALUES (" + std::to_string(700 + i) + ", 'long');\nCOMMIT;\n");
    if (tx.exit_code == 0) {
      ++long_committed;
    } else {
      EXPECT_NE(tx.err.find("its leader is"), std::string::npos) << tx.err;
    }
  }
  EXPECT_EQ(long_committed, 1);

  // The leader running a moved transaction is killed: the transaction fails where it
  // began (and ROLLBACK ends it there); the connection goes on, and a transaction retried
  // through it commits once another leader is elected.
  int leader = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (size_t i = 0; i < nodes.size() && leader < 0; ++i) {
          auto probe = nodes[i]->Client();
          auto sent = probe.Send("POST", "/v1/api/sql", R"({"sql":"INSERT INTO app.items VALUES (-1, 'probe') ON CONFLICT (id) DO NOTHING"})",
                                 {{"Authorization", RootAuth()}, {"X-Kalam-Forwarded-By", "test"}});
          if (sent.ok() && sent->status == 200) leader = static_cast<int>(i);
        }
        return leader >= 0;
      },
      std::chrono::seconds(15)));
  const size_t via = (static_cast<size_t>(leader) + 1) % nodes.size();
  const std::string killing_script = std::string(
      "import psycopg, sys, time\n"
      "c = psycopg.connect(host='127.0.0.1', port=") + std::to_string(nodes[via]->pg_port()) +
      ", user='root', password='" + kRootPassword + "', dbname='kalam')\n"
      "c.execute('SELECT count(*) FROM app.items').fetchone()\n"
      "c.execute('INSERT INTO app.items VALUES (600, %s)', ('moved',))\n"
      "print('moved', flush=True)\n"
      "sys.stdin.readline()\n"
      "try:\n"
      "    c.execute('INSERT INTO app.items VALUES (601, %s)', ('moved',))\n"
      "    print('after the kill: ok')\n"
      "except psycopg.Error as e:\n"
      "    print('after the kill:', e.sqlstate)\n"
      "c.rollback()\n"
      "deadline = time.time() + 30\n"
      "while True:\n"
      "    try:\n"
      "        c.execute('INSERT INTO app.items VALUES (602, %s)', ('retried',))\n"
      "        c.commit()\n"
      "        print('retried: committed')\n"
      "        break\n"
      "    except psycopg.Error as e:\n"
      "        c.rollback()\n"
      "        if time.time() > deadline or e.sqlstate not in ('53300', '40001'):\n"
      "            print('retried:', e.sqlstate, e)\n"
      "            break\n"
      "        time.sleep(0.2)\n";
  char kill_pattern[] = "/tmp/kalamdb-psycopg-XXXXXX";
  const std::string kill_dir = ::mkdtemp(kill_pattern);
  std::ofstream(kill_dir + "/kill.py") << killing_script;
  FILE* python = ::popen(("timeout 90 /usr/bin/python3 " + kill_dir + "/kill.py >" + kill_dir + "/out 2>&1").c_str(), "w");
  ASSERT_NE(python, nullptr);
  const bool moved_there = WaitUntil([&] { return ReadFile(kill_dir + "/out").starts_with("moved\n"); }, std::chrono::seconds(30));
  nodes[leader]->Stop(SIGKILL);
  std::fputs("go\n", python);
  std::fflush(python);
  const int killed_status = ::pclose(python);
  const std::string killed_out = ReadFile(kill_dir + "/out");
  std::filesystem::remove_all(kill_dir);
  nodes[leader]->Start();
  EXPECT_TRUE(moved_there) << killed_out;
  EXPECT_EQ(killed_status, 0) << killed_out;
  EXPECT_EQ(killed_out, "moved\nafter the kill: 53300\nretried: committed\n");
  auto kept = ReplicaRows(*nodes[via], RootAuth(), "SELECT id FROM app.items WHERE id BETWEEN 600 AND 699 ORDER BY id");
  EXPECT_EQ(kept, "[[602]]");

  // Sessions between nodes are opened by nodes only.
  auto through = nodes[via]->Client();
  auto refused = through.Send("POST", "/v1/cluster/session", R"({"statements":[{"sql":"BEGIN"}]})",
                           {{"Content-Type", "application/json"}, {"Authorization", RootAuth()}});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 403) << refused->body;
  refused = through.Send("POST", "/v1/cluster/session", R"({"statements":[{"sql":"BEGIN"}]})",
                      {{"Content-Type", "application/json"}, {"Authorization", RootAuth()}, {"X-Kalam-Act-As", "root"}});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401) << refused->body;
}

TEST_F(ClusterTest, SubscribersHearOfWritesThroughAnyNodeAndResumeElsewhere) {
  const std::vector<ServerProcess*> nodes = StartBalanced({"l1", "l2", "l3"});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  auto first = nodes[0]->Client();
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE NAMESPACE app; CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY, body TEXT); "
                                   "CREATE USER 'ann' WITH PASSWORD 'ann-password' ROLE user").status, 200);
  const std::string ann = client::BasicAuth("ann", "ann-password");
  for (ServerProcess* node : nodes) {
    ASSERT_TRUE(WaitUntil([&] { return RowsText(*node, ann, "SELECT count(*) FROM app.msgs") == "[[0]]"; }, std::chrono::seconds(5)));
  }
  // The node that does not lead ann's shard... or any: a subscriber on each node.
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (ServerProcess* node : nodes) {
    subscribers.push_back(std::make_unique<Subscriber>());
    ASSERT_TRUE(subscribers.back()->Subscribe(*node, ann, "SELECT * FROM app.msgs", 0));
  }
  for (auto& s : subscribers) s->Read(std::chrono::milliseconds(300));
  // Writes through every node: each subscriber hears of all of them.
  for (int i = 0; i < 9; ++i) {
    auto http = nodes[i % 3]->Client();
    ASSERT_EQ(Sql(http, ann, "INSERT INTO app.msgs VALUES (" + std::to_string(i) + ", 'm')").status, 200);
  }
  for (auto& s : subscribers) {
    EXPECT_TRUE(WaitUntil([&] { s->Read(std::chrono::milliseconds(50)); return s->ids.size() == 9; }, std::chrono::seconds(5)))
        << s->ids.size();
    EXPECT_EQ(s->duplicates, 0);
  }

  // Under a steady writer, the leader of ann's shard is killed, and with it a subscriber;
  // it resumes on another node from its last _seq: every acknowledged row once, none
  // missing.
  const int leader = WriteThroughLeader(nodes, ann, "INSERT INTO app.msgs VALUES (9, 'm')");
  ASSERT_GE(leader, 0);
  ServerProcess* writing = nodes[(leader + 1) % 3];
  ServerProcess* elsewhere = nodes[(leader + 2) % 3];
  std::atomic<bool> stop{false};
  std::mutex acked_mutex;
  std::set<int64_t> acked = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  int64_t attempted = 0;  // ids 100 .. attempted-1 were sent
  std::thread writer([&] {
    auto http = writing->Client();
    for (int64_t id = 100; !stop; ++id) {
      attempted = id + 1;
      try {
        if (Sql(http, ann, "INSERT INTO app.msgs VALUES (" + std::to_string(id) + ", 'w')").status == 200) {
          std::lock_guard lock(acked_mutex);
          acked.insert(id);
        }
      } catch (const std::exception&) {
        http = writing->Client();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  Subscriber& moving = *subscribers[leader];
  moving.Read(std::chrono::milliseconds(300));
  nodes[leader]->Stop(SIGKILL);
  while (moving.Read(std::chrono::milliseconds(100))) {
  }
  Subscriber resumed;
  resumed.ids = moving.ids;
  resumed.last_seq = moving.last_seq;
  ASSERT_TRUE(resumed.Subscribe(*elsewhere, ann, "SELECT * FROM app.msgs", moving.last_seq));
  resumed.Read(std::chrono::milliseconds(700));
  stop = true;
  writer.join();
  std::set<int64_t> expected;
  {
    std::lock_guard lock(acked_mutex);
    expected = acked;
  }
  // Every acknowledged row; besides, only rows whose write failed for the client as the
  // leader died (it may have been committed: the client is told so).
  auto heard_all = [&] {
    resumed.Read(std::chrono::milliseconds(50));
    return std::includes(resumed.ids.begin(), resumed.ids.end(), expected.begin(), expected.end());
  };
  EXPECT_TRUE(WaitUntil(heard_all, std::chrono::seconds(5))) << resumed.ids.size() << " of " << expected.size();
  for (int64_t id : resumed.ids) EXPECT_TRUE(expected.contains(id) || (id >= 100 && id < attempted)) << id;
  EXPECT_EQ(resumed.duplicates, 0);
  EXPECT_GT(expected.size(), 20u);
}

// A writer through whichever node is up, retrying what the server says to retry
// (SERVICE_UNAVAILABLE: no leader yet, or the node is going away; STATEMENT_TIMEOUT when
// asked to) and lost connections, each write under its id until it is acknowledged (or
// found applied by an earlier try: CONSTRAINT_VIOLATION).
class RetryingWriter {
 public:
  // write(id): the credentials and the statement that writes row id.
  RetryingWriter(const std::vector<ServerProcess*>& nodes, int64_t first_id, bool retry_timeouts,
                 std::function<std::pair<std::string, std::string>(int64_t id)> write)
      : nodes_(nodes), retry_timeouts_(retry_timeouts), write_(std::move(write)), thread_([this, first_id] { Run(first_id); }) {}
  ~RetryingWriter() { Stop(); }
  void Down(size_t node, bool down) { down_[node] = down; }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<int64_t> acked() {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  int other_errors() const { return other_errors_.load(); }

 private:
  void Run(int64_t first_id) {
    for (int64_t id = first_id; !stop_; ++id) {
      bool done = false;
      const auto [auth, sql] = write_(id);
      for (int attempt = 0; attempt < 200 && !done && !stop_; ++attempt) {
        const size_t n = static_cast<size_t>(id + attempt) % nodes_.size();
        if (down_[n]) continue;
        try {
          auto http = nodes_[n]->Client();
          auto r = Sql(http, auth, sql);
          if (r.status == 200 || r.error_code() == "CONSTRAINT_VIOLATION") {
            std::lock_guard lock(mutex_);
            acked_.insert(id);
            done = true;
          } else if (r.error_code() != "SERVICE_UNAVAILABLE" && (!retry_timeouts_ || r.error_code() != "STATEMENT_TIMEOUT")) {
            ++other_errors_;
            std::cout << "write " << id << ": " << json::serialize(r.body) << "\n";
            done = true;
          }
        } catch (const std::exception&) {
          // the node went away mid-request: try again
        }
        if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

  const std::vector<ServerProcess*> nodes_;
  const bool retry_timeouts_;
  const std::function<std::pair<std::string, std::string>(int64_t)> write_;
  std::array<std::atomic<bool>, 8> down_{};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<int64_t> acked_;
  std::atomic<int> other_errors_{0};
  std::thread thread_;  // last: starts once the rest is made
};

TEST_F(ClusterTest, ARollingRestartUnderLoadLosesNoAcknowledgedWrite) {
  const std::vector<ServerProcess*> nodes = StartBalanced({"k1", "k2", "k3"});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  auto first = nodes[0]->Client();
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.log (id BIGINT PRIMARY KEY)").status, 200);
  for (ServerProcess* node : nodes) {
    ASSERT_TRUE(WaitUntil([&] { return AppTables(*node) == "log "; }, std::chrono::seconds(5)));
  }
  RetryingWriter writer(nodes, 1, /*retry_timeouts=*/false,
                        [](int64_t id) { return std::make_pair(RootAuth(), "INSERT INTO app.log VALUES (" + std::to_string(id) + ")"); });
  // Each node in turn: stopped cleanly, started again, leadership settled again.
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // load before the stop
    writer.Down(i, true);
    nodes[i]->Stop(SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // load while it is away
    nodes[i]->Start();
    writer.Down(i, false);
    ASSERT_TRUE(WaitUntil([&] { return Balanced(nodes, 8); }, std::chrono::seconds(30))) << "after restarting " << i;
  }
  writer.Stop();
  EXPECT_EQ(writer.other_errors(), 0);
  const std::set<int64_t> expected = writer.acked();
  ASSERT_GT(expected.size(), 20u);
  // Every acknowledged row, on every node (a write that failed for its client may be there
  // too: it was retried under the same id).
  for (ServerProcess* node : nodes) {
    std::set<int64_t> there;
    EXPECT_TRUE(WaitUntil(
        [&] {
          const std::string rows = ReplicaRows(*node, RootAuth(), "SELECT id FROM app.log ORDER BY id");
          if (rows.empty()) return false;
          there.clear();
          const json::value parsed = json::parse(rows);
          for (const auto& row : parsed.as_array()) there.insert(row.as_array().at(0).as_int64());
          return std::includes(there.begin(), there.end(), expected.begin(), expected.end());
        },
        std::chrono::seconds(10)))
        << there.size() << " rows of " << expected.size() << " acknowledged";
  }
}

TEST_F(ClusterTest, TopicsTakeEveryShardsChangesOnceThroughAnyNode) {
  const std::vector<ServerProcess*> nodes = StartBalanced({"t1", "t2", "t3"});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  constexpr int kPartitions = 3;
  constexpr int kUsers = 4;
  auto first = nodes[0]->Client();
  std::string setup =
      "CREATE NAMESPACE app; CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT); "
      "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT); "
      "CREATE TOPIC app.feed PARTITIONS " + std::to_string(kPartitions) + "; "
      "ALTER TOPIC app.feed ADD SOURCE app.notes ON INSERT; ALTER TOPIC app.feed ADD SOURCE app.items ON INSERT; "
      "ALTER TOPIC app.feed ADD SOURCE app.notes ON DELETE WITH (payload = 'key'); "
      "CREATE USER 'worker' WITH PASSWORD 'worker-password' ROLE service; ";
  for (int u = 0; u < kUsers; ++u) {
    setup += "CREATE USER 'w" + std::to_string(u) + "' WITH PASSWORD 'w" + std::to_string(u) + "-password' ROLE user; ";
  }
  ASSERT_EQ(Sql(first, RootAuth(), setup).status, 200);
  auto user = [](int u) { return client::BasicAuth("w" + std::to_string(u), "w" + std::to_string(u) + "-password"); };
  const std::string worker = client::BasicAuth("worker", "worker-password");
  std::mt19937 random(11);
  auto through = [&](ServerProcess& node, const std::string& auth, const std::string& sql) {
    auto http = node.Client();
    return Sql(http, auth, sql);
  };
  auto through_any = [&](const std::string& auth, const std::string& sql) { return through(*nodes[random() % 3], auth, sql); };

  // Changes of many shards (each user's notes, the items' shard) through random nodes:
  // each is in the topic when its statement returns, as any node counts it.
  int64_t expected = 0;
  for (int i = 0; i < 40; ++i) {
    auto http = nodes[random() % 3]->Client();
    const std::string values = " VALUES (" + std::to_string(i) + ", 'change " + std::to_string(i) + "')";
    auto r = i % 2 == 0 ? Sql(http, RootAuth(), "INSERT INTO app.items" + values)
                        : Sql(http, user(i % kUsers), "INSERT INTO app.notes" + values);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    ++expected;
    auto counted = nodes[random() % 3]->Client();
    auto count = Sql(counted, RootAuth(), "SELECT message_count FROM system.topics WHERE topic_id = 'app.feed'");
    ASSERT_EQ(count.status, 200) << json::serialize(count.body);
    ASSERT_EQ(count.rows().at(0).at(0).as_int64(), expected) << "after change " << i << nodes[0]->log() << nodes[1]->log() << nodes[2]->log();
  }
  auto deleting = nodes[1]->Client();
  ASSERT_EQ(Sql(deleting, user(1), "DELETE FROM app.notes WHERE id = 1").status, 200);
  ++expected;

  // A group through random nodes takes each message once, acknowledging as it goes.
  std::vector<TopicMessage> taken;
  for (int round = 0; round < 100 && static_cast<int64_t>(taken.size()) < expected; ++round) {
    auto http = nodes[random() % 3]->Client();
    auto r = Sql(http, worker, "CONSUME FROM app.feed GROUP 'g' FROM EARLIEST LIMIT 7");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    std::map<int64_t, int64_t> last;
    for (const TopicMessage& m : TopicMessages(r)) {
      taken.push_back(m);
      last[m.partition] = std::max(last[m.partition], m.offset);
    }
    for (const auto& [p, offset] : last) {
      auto acked = through_any(worker, "ACK app.feed GROUP 'g' PARTITION " + std::to_string(p) + " UPTO OFFSET " + std::to_string(offset));
      ASSERT_EQ(acked.status, 200) << json::serialize(acked.body);
    }
  }
  ASSERT_EQ(static_cast<int64_t>(taken.size()), expected);
  std::set<std::string> seen;
  for (const TopicMessage& m : taken) EXPECT_TRUE(seen.insert(m.op + " " + m.key).second) << "twice: " << m.op << " " << m.key;
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(seen.contains("insert " + std::to_string(i))) << i;
  EXPECT_TRUE(seen.contains("delete 1"));
  EXPECT_EQ(OffsetGaps(taken), "");
  auto offsets = through(*nodes[2], RootAuth(), "SELECT sum(committed_offset + 1) FROM system.topic_offsets WHERE group_id = 'g'");
  ASSERT_EQ(offsets.status, 200) << json::serialize(offsets.body);
  EXPECT_EQ(offsets.rows().at(0).at(0).as_int64(), expected);

  // Writers go on while each node in turn is killed and started again: the leaders of the
  // topic's shard and of the rows' shards die mid-delivery.
  RetryingWriter writer(nodes, 1000, /*retry_timeouts=*/true, [&](int64_t id) {
    return std::make_pair(user(static_cast<int>(id % kUsers)),
                          "INSERT INTO app.notes VALUES (" + std::to_string(id) + ", 'under kills')");
  });
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    writer.Down(i, true);
    nodes[i]->Stop(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    nodes[i]->Start();
    writer.Down(i, false);
    ASSERT_TRUE(WaitUntil([&] { return Balanced(nodes, 8); }, std::chrono::seconds(30))) << "after restarting " << i;
  }
  writer.Stop();
  EXPECT_EQ(writer.other_errors(), 0);
  const std::set<int64_t> acked = writer.acked();
  ASSERT_GT(acked.size(), 20u);

  // The rows there now (a write its client saw fail may be there too: it was retried).
  std::set<std::string> rows;
  for (int u = 0; u < kUsers; ++u) {
    auto r = through(*nodes[u % 3], user(u), "SELECT id FROM app.notes WHERE id >= 1000");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    for (const json::value& row : r.rows()) rows.insert(std::to_string(row.as_array().at(0).as_int64()));
  }
  for (int64_t id : acked) EXPECT_TRUE(rows.contains(std::to_string(id))) << "acknowledged row " << id << " is missing";
  // Each row's insert is in the topic exactly once, once the outboxes are delivered (a
  // moment after the kills), and nothing else is; the offsets stay dense.
  std::map<std::string, int> inserted;
  std::vector<TopicMessage> log;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto whole = WholeTopic(*nodes[random() % 3], worker, "app.feed", kPartitions);
        if (!whole) return false;
        log = std::move(*whole);
        inserted.clear();
        for (const TopicMessage& m : log) {
          if (m.op == "insert" && m.key.size() >= 4) ++inserted[m.key];
        }
        return inserted.size() >= rows.size();
      },
      std::chrono::seconds(20)))
      << inserted.size() << " of " << rows.size() << " rows' messages";
  for (const auto& [key, count] : inserted) {
    EXPECT_EQ(count, 1) << "insert " << key;
    EXPECT_TRUE(rows.contains(key)) << "a message for row " << key << ", which is not there";
  }
  EXPECT_EQ(OffsetGaps(log), "");
  EXPECT_EQ(static_cast<int64_t>(log.size()), expected + static_cast<int64_t>(rows.size()));

  // The group goes on after what it acknowledged, at whichever node leads the topic now.
  std::set<std::string> rest;
  for (int round = 0; round < 200 && rest.size() < rows.size(); ++round) {
    auto r = through_any(worker, "CONSUME FROM app.feed GROUP 'g' LIMIT 50");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    std::map<int64_t, int64_t> last;
    for (const TopicMessage& m : TopicMessages(r)) {
      EXPECT_TRUE(rows.contains(m.key)) << "the group was handed " << m.op << " " << m.key << " again";
      rest.insert(m.key);
      last[m.partition] = std::max(last[m.partition], m.offset);
    }
    for (const auto& [p, offset] : last) {
      ASSERT_EQ(through_any(worker, "ACK app.feed GROUP 'g' PARTITION " + std::to_string(p) + " UPTO OFFSET " + std::to_string(offset))
                    .status,
                200);
    }
  }
  EXPECT_EQ(rest.size(), rows.size());

  // Workers long-polling over HTTP through every node are answered by the topic's leader
  // as soon as a change arrives, and acknowledge through any node.
  ASSERT_EQ(through(*nodes[0], RootAuth(), "CREATE TOPIC app.solo; ALTER TOPIC app.solo ADD SOURCE app.items ON INSERT").status,
            200);
  std::array<std::string, 3> polled;
  std::atomic<int> answered{0};
  std::vector<std::thread> pollers;
  for (size_t n = 0; n < nodes.size(); ++n) {
    pollers.emplace_back([&, n] {
      auto http = nodes[n]->Client();
      http.SetTimeout(std::chrono::seconds(30));
      auto answer = http.Send("POST", "/v1/api/topics/consume",
                              R"({"topic_id":"app.solo","group_id":"poll-)" + std::to_string(n) +
                                  R"(","start":"Latest","timeout_seconds":20})",
                              {{"Authorization", worker}});
      polled[n] = answer.ok() ? std::to_string(answer->status) + " " + answer->body : answer.status().message();
      ++answered;
    });
  }
  // The polls wait (their groups begin at the end of the topic), then one change arrives.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_EQ(answered.load(), 0) << "a poll was answered before any change";
  ASSERT_EQ(through(*nodes[1], RootAuth(), "INSERT INTO app.items VALUES (5000, 'polled')").status, 200);
  for (std::thread& t : pollers) t.join();
  for (size_t n = 0; n < nodes.size(); ++n) {
    ASSERT_TRUE(polled[n].starts_with("200 ")) << polled[n];
    const json::object answer = json::parse(polled[n].substr(4)).as_object();
    ASSERT_EQ(answer.at("messages").as_array().size(), 1u) << polled[n];
    EXPECT_EQ(answer.at("messages").as_array().at(0).at("key").as_string(), "5000");
    auto http = nodes[(n + 1) % 3]->Client();
    auto acked = http.Send("POST", "/v1/api/topics/ack",
                           R"({"topic_id":"app.solo","group_id":"poll-)" + std::to_string(n) +
                               R"(","partition_id":0,"upto_offset":0})",
                           {{"Authorization", worker}});
    ASSERT_TRUE(acked.ok());
    EXPECT_EQ(acked->status, 200) << acked->body;
    EXPECT_NE(acked->body.find("\"acknowledged_offset\":0"), std::string::npos) << acked->body;
  }

  // Records are appended between nodes only: a client's credentials, even root's, are
  // refused, and nothing lands in the topic.
  auto http = nodes[0]->Client();
  const std::string forged = R"({"topic_num":1,"source_shard":0,"records":"AAAAAAAAAAEAAAAA"})";
  for (const std::string& credentials : {RootAuth(), worker, std::string()}) {
    client::Headers headers = {{"Content-Type", "application/json"}};
    if (!credentials.empty()) headers.emplace_back("Authorization", credentials);
    auto refused = http.Send("POST", "/v1/cluster/topic-append", forged, headers);
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status, 401) << refused->body;
  }
  auto after = WholeTopic(*nodes[1], worker, "app.solo", 1);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->size(), 1u);
}

// sql through node, again while it answers SERVICE_UNAVAILABLE (a node names a shard's
// leader within a heartbeat of a change; clients retry), for at most 10 s.
SqlResponse SqlOnceLeadersKnown(ServerProcess& node, const std::string& auth, const std::string& sql) {
  SqlResponse r;
  WaitUntil(
      [&] {
        auto http = node.Client();
        r = Sql(http, auth, sql);
        return r.error_code() != "SERVICE_UNAVAILABLE";
      },
      std::chrono::seconds(10));
  return r;
}

// A node that holds no replica of a shard (more nodes than replicas: a fourth node, drained
// as it joins, holds none) sends its requests to the shard's leader, which the leaders'
// heartbeats name: writes, reads, transactions and topics through it work as through any,
// and its clients' subscriptions are relayed to a node holding their rows.
TEST_F(ClusterTest, ANodeWithoutAShardsReplicaSendsItsRequestsToTheLeader) {
  TempDir shared;
  const std::map<std::string, std::string> keys = {{"shared_storage_path", "\"" + shared.path() + "\""}};
  std::vector<ServerProcess*> nodes = StartBalanced({"h1", "h2", "h3"}, keys);
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  started_.push_back(Node("h4", keys));
  started_.back()->Start();
  ServerProcess& fourth = *started_.back();
  nodes.push_back(&fourth);
  ASSERT_TRUE(WaitUntil([&] { return Nodes(fourth).size() == 4; }, std::chrono::seconds(10)));
  {
    // Drained, it takes no replicas (one it took before the drain goes again).
    auto http = fourth.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CLUSTER DRAIN 'h4'").status, 200);
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto held = Sql(http, RootAuth(), "SELECT shards_held FROM system.cluster_nodes WHERE node_id = 'h4'");
          return held.status == 200 && held.rows().at(0).at(0).as_int64() == 0;
        },
        std::chrono::seconds(30)))
        << "the fourth node kept replicas";
  }
  // The leaders' heartbeats name them within a beat (a third of the 2 s TTL); until then
  // the node answers SERVICE_UNAVAILABLE, which clients retry.
  const auto retrying = SqlOnceLeadersKnown;
  ASSERT_EQ(retrying(fourth, RootAuth(),
                     "CREATE NAMESPACE app; CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT); "
                     "CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT) WITH (ACCESS_LEVEL = 'public'); "
                     "CREATE TOPIC app.feed; "
                     "ALTER TOPIC app.feed ADD SOURCE app.notes ON INSERT; "
                     "CREATE USER 'worker' WITH PASSWORD 'worker-password' ROLE service")
                .status,
            200);
  constexpr int kUsers = 6;
  std::string users;
  for (int u = 0; u < kUsers; ++u) {
    users += "CREATE USER 'n" + std::to_string(u) + "' WITH PASSWORD 'n" + std::to_string(u) + "-password' ROLE user; ";
  }
  ASSERT_EQ(retrying(fourth, RootAuth(), users).status, 200);
  auto user = [](int u) { return client::BasicAuth("n" + std::to_string(u), "n" + std::to_string(u) + "-password"); };
  // Every user's rows (spread over the shards) through every node, the fourth first.
  for (int u = 0; u < kUsers; ++u) {
    for (size_t n = 0; n < nodes.size(); ++n) {
      const size_t via = (n + 3) % nodes.size();
      auto r = retrying(*nodes[via], user(u),
                        "INSERT INTO app.notes VALUES (" + std::to_string(u * 10 + static_cast<int>(n)) + ", 'via " +
                            std::to_string(via) + "')");
      ASSERT_EQ(r.status, 200) << "user " << u << " through node " << via << ": " << json::serialize(r.body);
    }
    auto read = retrying(fourth, user(u), "SELECT count(*) FROM app.notes");
    ASSERT_EQ(read.status, 200) << json::serialize(read.body);
    EXPECT_EQ(read.rows().at(0).at(0).as_int64(), 4) << "user " << u;
  }
  // A transaction within one shard, begun through the fourth node.
  auto txn = retrying(fourth, user(2), "BEGIN; INSERT INTO app.notes VALUES (100, 'a'); "
                                       "UPDATE app.notes SET body = 'b' WHERE id = 100; COMMIT");
  ASSERT_EQ(txn.status, 200) << json::serialize(txn.body);
  // A SHARED table through it.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(retrying(fourth, RootAuth(), "INSERT INTO app.items VALUES (" + std::to_string(i) + ", 'x')").status, 200);
  }
  auto items = retrying(fourth, RootAuth(), "SELECT count(*) FROM app.items");
  ASSERT_EQ(items.status, 200);
  EXPECT_EQ(items.rows().at(0).at(0).as_int64(), 5);
  // Each note's insert is in the topic once; consumed through the fourth node (SQL and
  // HTTP), which holds no replica of the topic's shard either.
  const std::string worker = client::BasicAuth("worker", "worker-password");
  const int64_t expected = kUsers * 4 + 1;
  auto count = retrying(*nodes[0], RootAuth(), "SELECT message_count FROM system.topics");
  ASSERT_EQ(count.status, 200);
  EXPECT_EQ(count.rows().at(0).at(0).as_int64(), expected);
  auto consumed = retrying(fourth, worker, "CONSUME FROM app.feed GROUP 'g' FROM EARLIEST LIMIT 1000");
  ASSERT_EQ(consumed.status, 200) << json::serialize(consumed.body);
  EXPECT_EQ(static_cast<int64_t>(consumed.rows().size()), expected);
  auto http = fourth.Client();
  auto polled = http.Send("POST", "/v1/api/topics/consume",
                          R"({"topic_id":"app.feed","group_id":"h","start":"Earliest","limit":1000})",
                          {{"Authorization", worker}});
  ASSERT_TRUE(polled.ok());
  ASSERT_EQ(polled->status, 200) << polled->body;
  EXPECT_EQ(json::parse(polled->body).at("messages").as_array().size(), static_cast<size_t>(expected));

  // SHOW STATS counts the rows of every shard, through a node holding none of them too;
  // the nodes ask each other only with the cluster's token.
  auto hot_rows = [&](ServerProcess& node, const std::string& table) -> int64_t {
    auto r = retrying(node, RootAuth(), "SHOW STATS FOR TABLE " + table);
    if (r.status != 200) return -1;
    for (const auto& row : r.rows()) {
      if (Text(row.at(0)) == "hot_rows") return std::stoll(Text(row.at(1)));
    }
    return -1;
  };
  EXPECT_EQ(hot_rows(fourth, "app.notes"), expected);
  EXPECT_EQ(hot_rows(*nodes[0], "app.notes"), expected);
  EXPECT_EQ(hot_rows(fourth, "app.items"), 5);

  // A dba's query reads every user's rows: a node holding none of their shards gathers
  // them from the shards' leaders, hot and then flushed, and answers as a node holding
  // them all does.
  ASSERT_EQ(retrying(*nodes[0], RootAuth(), "CREATE USER 'boss' WITH PASSWORD 'boss-password' ROLE dba").status, 200);
  const std::string boss = client::BasicAuth("boss", "boss-password");
  const std::string every = "SELECT id, body FROM app.notes ORDER BY id, body";
  auto every_read = [&](ServerProcess& node) { return retrying(node, boss, every); };
  const SqlResponse held = every_read(*nodes[0]);
  ASSERT_EQ(held.status, 200) << json::serialize(held.body);
  EXPECT_EQ(held.rows().size(), static_cast<size_t>(expected));
  const SqlResponse gathered = every_read(fourth);
  ASSERT_EQ(gathered.status, 200) << json::serialize(gathered.body);
  EXPECT_EQ(json::serialize(gathered.rows()), json::serialize(held.rows()));
  auto count_by_body = retrying(fourth, RootAuth(), "SELECT count(*) FROM app.notes WHERE body = 'via 3'");
  ASSERT_EQ(count_by_body.status, 200);
  EXPECT_EQ(count_by_body.rows().at(0).at(0).as_int64(), kUsers);  // each user wrote one row through the fourth
  auto fourth_http = fourth.Client();
  const json::object flushed = JobResult(RunJob(fourth_http, "FLUSH TABLE app.notes"));
  ASSERT_EQ(flushed.at("rows_flushed").as_int64(), expected) << json::serialize(flushed);
  ASSERT_EQ(retrying(*nodes[1], user(3), "UPDATE app.notes SET body = 'changed' WHERE id = 30").status, 200);
  ASSERT_EQ(retrying(*nodes[2], user(4), "DELETE FROM app.notes WHERE id = 41").status, 200);
  const SqlResponse held_after = every_read(*nodes[0]);
  ASSERT_EQ(held_after.status, 200);
  const std::string after = json::serialize(held_after.rows());
  EXPECT_EQ(held_after.rows().size(), static_cast<size_t>(expected - 1));
  EXPECT_NE(after.find("[30,\"changed\"]"), std::string::npos) << after;
  EXPECT_EQ(json::serialize(every_read(fourth).rows()), after);
  // A transaction stays in one shard: every user's rows are not read in one.
  auto in_transaction = retrying(fourth, RootAuth(), "BEGIN; SELECT count(*) FROM app.notes; COMMIT");
  EXPECT_EQ(in_transaction.error_code(), "UNSUPPORTED") << json::serialize(in_transaction.body);
  // Over the Postgres wire, a transaction through the fourth node (no replica of the
  // user's shard) moves to the shard's leader at its first read, and commits there.
  const PsqlRun moved = Psql(fourth.pg_port(), "n5", "n5-password",
                             "BEGIN;\nSELECT count(*) FROM app.notes;\nINSERT INTO app.notes VALUES (500, 'moved');\n"
                             "SELECT count(*) FROM app.notes;\nCOMMIT;\n");
  EXPECT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ(moved.out, "BEGIN\n4\nINSERT 0 1\n5\nCOMMIT\n") << moved.err;
  auto after_move = retrying(*nodes[0], user(5), "SELECT count(*) FROM app.notes WHERE id = 500");
  ASSERT_EQ(after_move.status, 200);
  EXPECT_EQ(after_move.rows().at(0).at(0).as_int64(), 1);
  {
    auto http = fourth.Client();
    auto refused = http.Send("POST", "/v1/cluster/user-rows", R"({"table_id":"app:notes","shards":[0]})",
                             {{"Content-Type", "application/json"}, {"Authorization", RootAuth()}});
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status, 401) << refused->body;
  }
  {
    auto http = fourth.Client();
    auto refused = http.Send("POST", "/v1/cluster/hot-rows", R"({"table_id":"app:notes","shards":[0]})",
                             {{"Content-Type", "application/json"}, {"Authorization", RootAuth()}});
    ASSERT_TRUE(refused.ok());
    EXPECT_EQ(refused->status, 401) << refused->body;
  }

  // Subscriptions through the fourth node are relayed to a node holding their rows: the
  // snapshot, then every change written through any node.
  Subscriber notes;
  ASSERT_TRUE(notes.Subscribe(fourth, user(1), "SELECT * FROM app.notes", 0));
  ASSERT_TRUE(WaitUntil([&] { return notes.Read(std::chrono::milliseconds(100)) && notes.ids.size() == 4; },
                        std::chrono::seconds(10)))
      << notes.ids.size() << " rows of user 1 through the fourth node";
  ASSERT_EQ(retrying(*nodes[0], user(1), "INSERT INTO app.notes VALUES (19, 'heard')").status, 200);
  ASSERT_TRUE(WaitUntil([&] { return notes.Read(std::chrono::milliseconds(100)) && notes.ids.contains(19); },
                        std::chrono::seconds(5)));
  // More on the same connection: a SHARED table's (another shard, maybe another node),
  // an id taken already (refused here), then one unsubscribed (the holder answers).
  ASSERT_TRUE(notes.ws.Send(R"({"type":"subscribe","subscription":{"id":"items","sql":"SELECT * FROM app.items"}})").ok());
  ASSERT_TRUE(notes.ws.Send(R"({"type":"subscribe","subscription":{"id":"s","sql":"SELECT * FROM app.notes"}})").ok());
  ASSERT_TRUE(notes.ws.Send(R"({"type":"subscribe","subscription":{"id":"gone","sql":"SELECT * FROM app.notes"}})").ok());
  ASSERT_TRUE(notes.ws.Send(R"({"type":"unsubscribe","subscription_id":"gone"})").ok());
  std::set<std::string> item_rows;
  bool taken_refused = false;
  bool gone_unsubscribed = false;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto text = notes.ws.Receive(std::chrono::milliseconds(100));
        if (!text) return false;
        const json::object m = json::parse(*text).as_object();
        const std::string type = Text(m.at("type"));
        const std::string id = m.contains("subscription_id") ? Text(m.at("subscription_id")) : "";
        if (type == "initial_data_batch" && id == "items") {
          for (const auto& row : m.at("rows").as_array()) item_rows.insert(json::serialize(row.at("id")));
        }
        if (type == "error" && id == "s") {
          EXPECT_EQ(Text(m.at("code")), "INVALID_SUBSCRIPTION_ID") << *text;
          taken_refused = true;
        }
        if (type == "unsubscribed" && id == "gone") gone_unsubscribed = true;
        return item_rows.size() == 5 && taken_refused && gone_unsubscribed;
      },
      std::chrono::seconds(10)))
      << item_rows.size() << " item rows, taken id refused " << taken_refused << ", unsubscribed " << gone_unsubscribed;
  // A client can't pose as a relaying node: the act-as header needs the cluster's token.
  {
    client::WsClient forged;
    ASSERT_TRUE(forged.Connect("127.0.0.1", nodes[0]->port(), "/v1/ws",
                               {{"Authorization", user(1)}, {"X-Kalam-Act-As", "root"}})
                    .ok());
    std::optional<std::string> answer;
    ASSERT_TRUE(WaitUntil([&] { return (answer = forged.Receive(std::chrono::milliseconds(100))).has_value(); },
                          std::chrono::seconds(5)));
    EXPECT_NE(answer->find("auth_error"), std::string::npos) << *answer;
  }
  // The node the relay reaches is killed: the client is told and closed, reconnects
  // through the same node (relayed to the shard's new leader) and resumes from the last
  // _seq it heard, with no gap and no duplicate across the rows written meanwhile.
  int holder = -1;
  for (int n = 0; n < 3 && holder < 0; ++n) {
    auto http = nodes[static_cast<size_t>(n)]->Client();
    auto live = Sql(http, RootAuth(), "SELECT count(*) FROM system.live_queries WHERE subscription_id = 's'");
    if (live.status == 200 && live.rows().at(0).at(0).as_int64() > 0) holder = n;
  }
  ASSERT_GE(holder, 0) << "no node shows the relayed subscription";
  nodes[static_cast<size_t>(holder)]->Stop(SIGKILL);
  std::string told;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto text = notes.ws.Receive(std::chrono::milliseconds(100));
        if (text && text->find("SERVICE_UNAVAILABLE") != std::string::npos) told = *text;
        return !told.empty();
      },
      std::chrono::seconds(20)))
      << "the client was not told its relay ended";
  EXPECT_NE(told.find("from_seq_id"), std::string::npos) << told;
  ASSERT_TRUE(WaitUntil([&] { return !notes.Read(std::chrono::milliseconds(100)); }, std::chrono::seconds(10)))
      << "the connection stayed open";
  const size_t survivor = static_cast<size_t>((holder + 1) % 3);
  for (int id = 20; id < 25; ++id) {
    ASSERT_EQ(retrying(*nodes[survivor], user(1), "INSERT INTO app.notes VALUES (" + std::to_string(id) + ", 'meanwhile')").status,
              200);
  }
  std::unique_ptr<Subscriber> resumed;
  ASSERT_TRUE(WaitUntil(
      [&] {
        resumed = std::make_unique<Subscriber>();
        resumed->ids = notes.ids;
        if (!resumed->Subscribe(fourth, user(1), "SELECT * FROM app.notes", notes.last_seq)) return false;
        // Until the shard's new leader is named, the relay may reach none: then again.
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (std::chrono::steady_clock::now() < until) {
          auto text = resumed->ws.Receive(std::chrono::milliseconds(100));
          if (text && text->find("subscription_ack") != std::string::npos) return true;
          if (text && text->find("\"error\"") != std::string::npos) return false;
        }
        return false;
      },
      std::chrono::seconds(20)));
  ASSERT_TRUE(WaitUntil([&] { return resumed->Read(std::chrono::milliseconds(100)) && resumed->ids.contains(24); },
                        std::chrono::seconds(10)));
  for (int id = 20; id < 25; ++id) EXPECT_TRUE(resumed->ids.contains(id)) << id;
  EXPECT_EQ(resumed->duplicates, 0);
  ASSERT_EQ(retrying(fourth, user(1), "INSERT INTO app.notes VALUES (25, 'after')").status, 200);
  EXPECT_TRUE(WaitUntil([&] { return resumed->Read(std::chrono::milliseconds(100)) && resumed->ids.contains(25); },
                        std::chrono::seconds(5)));
  EXPECT_EQ(resumed->duplicates, 0);
}

// Three nodes, two replicas per shard: each node lacks some shards. A statement that
// reads rows of two shards runs at the leader of one; the other's rows, where that node
// holds no replica, come from their leader — for a query, for INSERT ... SELECT, and for a
// dba's read of every user's rows.
TEST_F(ClusterTest, AStatementReadsTheShardsItsNodeDoesNotHoldFromTheirLeaders) {
  std::vector<ServerProcess*> nodes;
  for (const char* id : {"g1", "g2", "g3"}) {
    started_.push_back(Node(id, {{"replication_factor", "2"}}));
    started_.back()->Start();
    nodes.push_back(started_.back().get());
  }
  // Every node sees the others, and every shard is led (each node names the leaders of
  // the shards it holds), the leaders spread (no node leads more than 3 of the 8) and
  // settled: the same for a second.
  std::map<int64_t, std::string> settled;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (ServerProcess* node : nodes) {
          if (Nodes(*node).size() != 3) return false;
        }
        std::map<int64_t, std::string> led;
        for (ServerProcess* node : nodes) led.merge(Leaders(*node, true));
        std::map<std::string, int> per_node;
        for (const auto& [shard, leader] : led) ++per_node[leader];
        const bool spread = led.size() == 8 && std::all_of(per_node.begin(), per_node.end(),
                                                            [](const auto& n) { return n.second <= 3; });
        if (!spread || led != settled) {
          settled = spread ? led : std::map<int64_t, std::string>();
          return false;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));  // then looked at once more
        std::map<int64_t, std::string> again;
        for (ServerProcess* node : nodes) again.merge(Leaders(*node, true));
        return again == settled;
      },
      std::chrono::seconds(60)));
  const auto retrying = SqlOnceLeadersKnown;
  constexpr int kTables = 8, kUsers = 6;
  std::string ddl = "CREATE NAMESPACE app; CREATE USER TABLE app.mine (id BIGINT PRIMARY KEY, k INT); "
                    "CREATE USER TABLE app.copied (id BIGINT PRIMARY KEY, k INT); ";
  for (int t = 0; t < kTables; ++t) {
    ddl += "CREATE SHARED TABLE app.s" + std::to_string(t) +
           " (k INT PRIMARY KEY, label TEXT) WITH (ACCESS_LEVEL = 'public'); ";
  }
  for (int u = 0; u < kUsers; ++u) {
    ddl += "CREATE USER 'r" + std::to_string(u) + "' WITH PASSWORD 'r" + std::to_string(u) + "-password' ROLE user; ";
  }
  ASSERT_EQ(retrying(*nodes[0], RootAuth(), ddl).status, 200);
  for (int t = 0; t < kTables; ++t) {
    const std::string name = "app.s" + std::to_string(t);
    ASSERT_EQ(retrying(*nodes[t % 3], RootAuth(),
                       "INSERT INTO " + name + " SELECT range, 's" + std::to_string(t) + "-' || range FROM range(5)")
                  .status,
              200);
  }
  auto user = [](int u) { return client::BasicAuth("r" + std::to_string(u), "r" + std::to_string(u) + "-password"); };
  for (int u = 0; u < kUsers; ++u) {
    ASSERT_EQ(retrying(*nodes[u % 3], user(u), "INSERT INTO app.mine SELECT range, range % 3 FROM range(6)").status, 200);
  }
  for (int u = 0; u < kUsers; ++u) {
    for (int t = 0; t < kTables; ++t) {
      const std::string table = "app.s" + std::to_string(t);
      ServerProcess& via = *nodes[static_cast<size_t>(u + t) % 3];
      // k is 0, 1, 2, 0, 1, 2: each matches one row of the table.
      auto joined = retrying(via, user(u), "SELECT count(*), min(s.label) FROM app.mine m JOIN " + table +
                                               " s ON m.k = s.k");
      ASSERT_EQ(joined.status, 200) << "user " << u << ", " << table << ": " << json::serialize(joined.body);
      EXPECT_EQ(json::serialize(joined.rows()), "[[6,\"s" + std::to_string(t) + "-0\"]]") << "user " << u << ", " << table;
      auto copied = retrying(via, user(u), "INSERT INTO app.copied SELECT " + std::to_string(t) +
                                               " * 10 + k, k FROM " + table + " WHERE k < 2");
      ASSERT_EQ(copied.status, 200) << "user " << u << ", " << table << ": " << json::serialize(copied.body);
    }
    auto own = retrying(*nodes[2], user(u), "SELECT count(*), sum(k) FROM app.copied");
    ASSERT_EQ(own.status, 200);
    EXPECT_EQ(json::serialize(own.rows()), "[[" + std::to_string(kTables * 2) + "," + std::to_string(kTables) + "]]")
        << "user " << u;
  }
  // Every user's rows through each node, each holding only some of their shards.
  for (ServerProcess* node : nodes) {
    auto every = retrying(*node, RootAuth(), "SELECT (SELECT count(*) FROM app.mine), (SELECT sum(k) FROM app.copied)");
    ASSERT_EQ(every.status, 200) << json::serialize(every.body);
    EXPECT_EQ(json::serialize(every.rows()),
              "[[" + std::to_string(kUsers * 6) + "," + std::to_string(kUsers * kTables) + "]]");
  }
}

// The shards' replicas per node, as system.shards through this node says; empty when it
// can't be read.
std::map<std::string, int> ReplicasHeld(const ServerProcess& node) {
  auto http = node.Client();
  auto r = Sql(http, RootAuth(), "SELECT replicas FROM system.shards");
  std::map<std::string, int> held;
  if (r.status != 200) return held;
  for (const json::value& row : r.rows()) {
    const json::value replicas = json::parse(Text(row.as_array().at(0)));
    for (const json::value& replica : replicas.as_array()) ++held[Text(replica)];
  }
  return held;
}

// How many of nodes hold, in their own store (each node holding app.log's shard answers
// from it; the others refuse), every row of app.log in acked (ids > 0); a node answering
// with some but not all fails.
int ReplicasHoldingAll(const std::vector<ServerProcess*>& nodes, const std::set<int64_t>& acked) {
  int holders = 0;
  for (ServerProcess* node : nodes) {
    std::set<int64_t> there;
    const bool holds = WaitUntil(
        [&] {
          const std::string rows = ReplicaRows(*node, RootAuth(), "SELECT id FROM app.log WHERE id > 0 ORDER BY id");
          if (rows.empty()) return false;
          there.clear();
          const json::value parsed = json::parse(rows);
          for (const auto& row : parsed.as_array()) there.insert(row.as_array().at(0).as_int64());
          return std::includes(there.begin(), there.end(), acked.begin(), acked.end());
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(holds || there.empty()) << there.size() << " rows of " << acked.size() << " acknowledged on a replica";
    if (holds) ++holders;
  }
  return holders;
}

// A node joining a full cluster takes its share of the replicas, one move at a time (the
// new replica votes before the old one leaves), and a drained node gives every replica
// away, while writes go on: no acknowledged row is lost, and every replica holds them.
TEST_F(ClusterTest, ANodeJoiningTakesReplicasAndADrainedOneGivesThemAway) {
  std::vector<ServerProcess*> nodes = StartBalanced({"m1", "m2", "m3"});
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  auto first = nodes[0]->Client();
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.log (id BIGINT PRIMARY KEY)").status, 200);
  RetryingWriter writer(nodes, 1, /*retry_timeouts=*/true,
                        [](int64_t id) { return std::make_pair(RootAuth(), "INSERT INTO app.log VALUES (" + std::to_string(id) + ")"); });
  EXPECT_EQ(Sql(first, RootAuth(), "CLUSTER DRAIN 'nobody'").error_code(), "NOT_FOUND");
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE USER 'plain' WITH PASSWORD 'plain-password' ROLE user").status, 200);
  EXPECT_EQ(Sql(first, client::BasicAuth("plain", "plain-password"), "CLUSTER DRAIN 'm1'").error_code(),
            "PERMISSION_DENIED");

  // A fourth node joins: 24 replicas over four nodes, six each.
  started_.push_back(Node("m4"));
  started_.back()->Start();
  nodes.push_back(started_.back().get());
  // The map says so, and every shard has a leader whose voters all have every entry (as
  // the nodes holding it report: a node lists only the shards it holds).
  auto spread = [&](const std::map<std::string, int>& want) {
    return WaitUntil(
        [&] {
          if (ReplicasHeld(*nodes[0]) != want) return false;
          std::map<int64_t, std::string> led;
          for (ServerProcess* node : nodes) led.merge(Leaders(*node, /*caught_up=*/true));
          return led.size() == 8;
        },
        std::chrono::seconds(60));
  };
  ASSERT_TRUE(spread({{"m1", 6}, {"m2", 6}, {"m3", 6}, {"m4", 6}})) << json::serialize(json::value_from(ReplicasHeld(*nodes[0])));

  // m1 is drained: its replicas go to the other three, its state says so, and what it
  // held goes from its disk.
  ASSERT_EQ(Sql(first, RootAuth(), "CLUSTER DRAIN 'm1'").status, 200);
  ASSERT_TRUE(spread({{"m2", 8}, {"m3", 8}, {"m4", 8}})) << json::serialize(json::value_from(ReplicasHeld(*nodes[0])));
  EXPECT_EQ(Nodes(*nodes[1])["m1"].second, "draining");
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const auto& entry : std::filesystem::directory_iterator(nodes[0]->data_dir() + "/raft")) {
          if (entry.is_directory() && entry.path().filename().string().starts_with("shard-")) return false;
        }
        return true;
      },
      std::chrono::seconds(30)))
      << "the drained node kept a shard's Raft log";
  // Writes and reads through it still work (sent on to the leaders).
  auto via_drained = Sql(first, RootAuth(), "INSERT INTO app.log VALUES (-1)");
  EXPECT_EQ(via_drained.status, 200) << json::serialize(via_drained.body);

  // Undrained, it takes its share back.
  ASSERT_EQ(Sql(first, RootAuth(), "CLUSTER UNDRAIN 'm1'").status, 200);
  ASSERT_TRUE(spread({{"m1", 6}, {"m2", 6}, {"m3", 6}, {"m4", 6}})) << json::serialize(json::value_from(ReplicasHeld(*nodes[0])));
  writer.Stop();
  EXPECT_EQ(writer.other_errors(), 0);
  const std::set<int64_t> acked = writer.acked();
  ASSERT_GT(acked.size(), 50u);
  // Every acknowledged row on every replica of app.log's shard (a replica moved away a
  // moment ago may still answer, with every row too, until its group closes).
  EXPECT_GE(ReplicasHoldingAll(nodes, acked), 3);
  auto http = nodes[3]->Client();
  auto count = Sql(http, RootAuth(), "SELECT count(*) FROM app.log WHERE id > 0");
  ASSERT_EQ(count.status, 200);
  EXPECT_GE(count.rows().at(0).at(0).as_int64(), static_cast<int64_t>(acked.size()));
}

// A node down longer than down_node_timeout_secs counts as lost: its replicas move to the
// alive nodes, one at a time, while writes go on, so every shard has its three replicas
// again. Back later, the node rejoins empty and takes its share again; no row is lost.
TEST_F(ClusterTest, ALostNodesReplicasMoveToTheAliveNodes) {
  const std::map<std::string, std::string> keys = {{"down_node_timeout_secs", "4"}};
  std::vector<ServerProcess*> nodes = StartBalanced({"d1", "d2", "d3"}, keys);
  ASSERT_EQ(nodes.size(), 3u) << "the shards' leaders did not spread over the nodes";
  started_.push_back(Node("d4", keys));
  started_.back()->Start();
  ServerProcess& lost = *started_.back();
  const std::vector<ServerProcess*> alive = nodes;
  nodes.push_back(&lost);
  auto spread = [&](const std::vector<ServerProcess*>& over, const std::map<std::string, int>& want) {
    return WaitUntil(
        [&] {
          if (ReplicasHeld(*over[0]) != want) return false;
          std::map<int64_t, std::string> led;
          for (ServerProcess* node : over) led.merge(Leaders(*node, /*caught_up=*/true));
          return led.size() == 8;
        },
        std::chrono::seconds(90));
  };
  ASSERT_TRUE(spread(nodes, {{"d1", 6}, {"d2", 6}, {"d3", 6}, {"d4", 6}}))
      << json::serialize(json::value_from(ReplicasHeld(*nodes[0])));
  auto first = nodes[0]->Client();
  ASSERT_EQ(Sql(first, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.log (id BIGINT PRIMARY KEY)").status, 200);
  RetryingWriter writer(alive, 1, /*retry_timeouts=*/true,
                        [](int64_t id) { return std::make_pair(RootAuth(), "INSERT INTO app.log VALUES (" + std::to_string(id) + ")"); });

  // d4 is lost: within the timeout and six moves, the three others hold eight each. (The
  // map shows 6 each as the last move onto d4 begins: killed then, d4 dies as the target
  // of a move, which never settles; that shard's d4 replica moves on like the others.)
  lost.Stop(SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(spread(alive, {{"d1", 8}, {"d2", 8}, {"d3", 8}})) << json::serialize(json::value_from(ReplicasHeld(*nodes[0])));
  const auto moved_after = std::chrono::steady_clock::now() - killed_at;
  EXPECT_GE(moved_after, std::chrono::seconds(4)) << "replicas moved before the node counted as lost";
  std::printf("a lost node's 6 replicas moved in %lld ms (4 s of it the timeout)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(moved_after).count()));
  EXPECT_EQ(Nodes(*nodes[0])["d4"].second, "down");

  // Back, it takes its share again (it rejoins the groups empty, as a new replica).
  lost.Start();
  ASSERT_TRUE(spread(nodes, {{"d1", 6}, {"d2", 6}, {"d3", 6}, {"d4", 6}}))
      << json::serialize(json::value_from(ReplicasHeld(*nodes[0])));
  writer.Stop();
  EXPECT_EQ(writer.other_errors(), 0);
  const std::set<int64_t> acked = writer.acked();
  ASSERT_GT(acked.size(), 50u);
  EXPECT_GE(ReplicasHoldingAll(nodes, acked), 3) << "app.log's shard has not three replicas holding its rows";
}

TEST_F(ClusterTest, ANodeStoppedCleanlyLeavesAtOnce) {
  // A longer TTL: seeing the node down sooner than its lease could lapse shows it left.
  auto a = Node("a", {{"heartbeat_ttl_secs", "12"}});
  auto b = Node("b", {{"heartbeat_ttl_secs", "12"}});
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitUntil([&] { return Nodes(*a)["b"].second == "alive"; }, std::chrono::seconds(15)));
  EXPECT_EQ(b->Stop(SIGTERM), 0);
  // a reads the list every 4 s (a third of the TTL); b renewed its lease at most 4 s before
  // it stopped, so the lease would have lasted at least 8 s more.
  EXPECT_TRUE(WaitUntil([&] { return Nodes(*a)["b"].second == "down"; }, std::chrono::seconds(7)));
}

TEST_F(ClusterTest, StartsItCannotKeepAreRefused) {
  auto first = Node("first");
  first->Start();
  // Fixed settings differ from those the cluster was created with.
  auto other_shards = Node("other", {{"shards", "16"}});
  auto [code, log] = other_shards->RunSecondInstance();
  EXPECT_EQ(code, 1);
  EXPECT_NE(log.find("created with shards = 8"), std::string::npos) << log;
  // A node_id a live node holds.
  auto twin = Node("first", {{"join_timeout_secs", "1"}});
  std::tie(code, log) = twin->RunSecondInstance();
  EXPECT_EQ(code, 1);
  EXPECT_NE(log.find("node_id 'first' is in use"), std::string::npos) << log;
  // No etcd at the endpoint.
  ServerOptions nowhere = ClusterNodeOptions("lost", "[\"http://127.0.0.1:" + std::to_string(FreePort()) + "\"]",
                                      {{"join_timeout_secs", "1"}});
  ServerProcess lost(nowhere);
  std::tie(code, log) = lost.RunSecondInstance();
  EXPECT_EQ(code, 1);
  EXPECT_NE(log.find("cannot join the cluster"), std::string::npos) << log;
  EXPECT_NE(log.find("unreachable"), std::string::npos) << log;
  // A bad [cluster] section never gets that far.
  ServerOptions bad = ClusterNodeOptions("bad id!", etcd_->EndpointsToml());
  ServerProcess bad_id(bad);
  std::tie(code, log) = bad_id.RunSecondInstance();
  EXPECT_EQ(code, 2);
  EXPECT_NE(log.find("cluster.node_id must be"), std::string::npos) << log;
  ServerProcess no_raft_port(ClusterNodeOptions("no-port", etcd_->EndpointsToml(), {{"raft_port", "0"}}));
  std::tie(code, log) = no_raft_port.RunSecondInstance();
  EXPECT_EQ(code, 2);
  EXPECT_NE(log.find("cluster.raft_port must be set"), std::string::npos) << log;
  ServerProcess relative(ClusterNodeOptions("relative", etcd_->EndpointsToml(), {{"shared_storage_path", "\"cold\""}}));
  std::tie(code, log) = relative.RunSecondInstance();
  EXPECT_EQ(code, 2);
  EXPECT_NE(log.find("cluster.shared_storage_path must be an absolute path"), std::string::npos) << log;
  ServerProcess hasty(ClusterNodeOptions("hasty", etcd_->EndpointsToml(), {{"down_node_timeout_secs", "1"}}));
  std::tie(code, log) = hasty.RunSecondInstance();
  EXPECT_EQ(code, 2);
  EXPECT_NE(log.find("cluster.down_node_timeout_secs must be 0 (never) or between 2"), std::string::npos) << log;
  // The first node is unharmed.
  auto nodes = Nodes(*first);
  EXPECT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes["first"].second, "alive");
}

TEST_F(ClusterTest, ANodeOutlivesEtcdLosingItsQuorum) {
  auto a = Node("a");
  auto b = Node("b");
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitUntil([&] { return Nodes(*a)["b"].second == "alive"; }, std::chrono::seconds(10)));
  auto http = a->Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  etcd_->Stop(1);
  etcd_->Stop(2);
  // The node says etcd is out of reach and goes on answering.
  auto etcd_state = [&] {
    auto r = Sql(http, RootAuth(), "CLUSTER STATUS");
    return r.status == 200 ? Text(RowObject(r).at("etcd")) : std::string("no answer");
  };
  EXPECT_TRUE(WaitUntil([&] { return etcd_state().rfind("ok", 0) != 0; }, std::chrono::seconds(30)))
      << etcd_state();
  // The shards' groups need no etcd: the table's shard leader still takes writes.
  EXPECT_EQ(Sql(http, RootAuth(), "INSERT INTO app.notes VALUES (1, 'still here')").status, 200);
  // Once its view is older than a lease, it no longer claims to know the others' state.
  std::map<std::string, std::pair<std::string, std::string>> seen;
  EXPECT_TRUE(WaitUntil([&] { return (seen = Nodes(*a))["b"].second == "unknown"; }, std::chrono::seconds(15)));
  EXPECT_EQ(seen["a"].second, "alive");
  etcd_->Restart({1, 2});
  // Back in etcd, under its lease or a new one.
  EXPECT_TRUE(WaitUntil([&] { return etcd_state().rfind("ok", 0) == 0; }, std::chrono::seconds(30)))
      << etcd_state();
  EXPECT_TRUE(WaitUntil(
      [&] {
        seen = Nodes(*a);
        return seen["a"].second == "alive" && seen["b"].second == "alive";
      },
      std::chrono::seconds(15)));
  EXPECT_TRUE(WaitUntil([&] { return RowsText(*a, RootAuth(), "SELECT body FROM app.notes WHERE id = 1") == R"([["still here"]])"; },
                        std::chrono::seconds(5)));
  // Its jobs carry its node_id.
  // (A backup: beside the data directory, where backups may go by default.)
  const std::string backup = (std::filesystem::path(a->data_dir()).parent_path() / "backups" / "cluster").string();
  RunJob(http, "BACKUP DATABASE TO '" + backup + "'");
  std::filesystem::remove_all(backup);
  auto jobs = Sql(http, RootAuth(), "SELECT DISTINCT node_id FROM system.jobs");
  ASSERT_EQ(jobs.status, 200);
  EXPECT_EQ(json::serialize(jobs.rows()), R"([["a"]])");
}

}  // namespace
}  // namespace kalam::testing
