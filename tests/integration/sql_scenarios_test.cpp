// Runs every SQL scenario file tests/sql/*.test as its own test, each on a fresh server, and
// again on a fresh cluster of three nodes.
// The file format is described in tests/sql/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/temp_dir.h"
#include "cluster_nodes.h"
#include "etcd_process.h"
#include "server_process.h"

namespace kalam::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// One directive of a scenario file with the SQL that follows it.
struct Step {
  int line = 0;           // 1-based line of the directive, for failure messages
  std::string user;       // who runs the SQL
  std::string directive;  // the line as written, for failure messages
  std::string expect;     // "ok", "error", "count" or "query"
  std::string arg;        // the error code (may be empty) or the row count
  std::string sql;
  std::vector<std::string> rows;  // query only: expected rows, re-serialized
};

struct Scenario {
  std::vector<Step> steps;
  // Why the file does not run against a cluster yet ("cluster not yet: <why>"); empty: it
  // does.
  std::string not_in_cluster;
  std::vector<std::pair<int, std::string>> errors;  // 1-based line and problem
};

std::string Trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

Scenario Parse(const std::string& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(Trim(line));
  Scenario out;
  std::string user = "root";
  size_t i = 0;
  // Reads lines until a blank line, the end, or `stop`; returns them joined.
  auto block = [&](const std::string& stop) {
    std::string text;
    for (; i < lines.size() && !lines[i].empty() && lines[i] != stop; ++i) {
      text += (text.empty() ? "" : "\n") + lines[i];
    }
    return text;
  };
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      ++i;
    } else if (StartsWith(line, "cluster not yet:")) {
      out.not_in_cluster = Trim(line.substr(16));
      if (out.not_in_cluster.empty()) out.errors.emplace_back(i + 1, "'cluster not yet:' without a reason");
      ++i;
    } else if (StartsWith(line, "user ")) {
      user = Trim(line.substr(5));
      ++i;
    } else if (StartsWith(line, "statement") || StartsWith(line, "query")) {
      std::istringstream words(line);
      std::string kind, expect, arg, extra;
      words >> kind >> expect >> arg >> extra;
      const bool valid =
          extra.empty() &&
          ((kind == "query" && expect.empty()) ||
           (kind == "statement" && ((expect == "ok" && arg.empty()) || expect == "error" ||
                                    (expect == "count" && !arg.empty()))));
      if (kind == "query") expect = "query";
      if (!valid) out.errors.emplace_back(i + 1, "unknown directive '" + line + "'");
      Step step{static_cast<int>(i + 1), user, line, expect, arg, "", {}};
      ++i;
      step.sql = block("----");
      if (step.sql.empty()) out.errors.emplace_back(step.line, "no SQL after '" + line + "'");
      if (expect == "query") {
        if (i >= lines.size() || lines[i] != "----") {
          out.errors.emplace_back(step.line, "query without '----'");
        } else {
          for (++i; i < lines.size() && !lines[i].empty(); ++i) {
            json::error_code ec;
            auto row = json::parse(lines[i], ec);
            if (ec || !row.is_array())
              out.errors.emplace_back(i + 1, "not a JSON array: " + lines[i]);
            else
              step.rows.push_back(json::serialize(row));
          }
        }
      }
      out.steps.push_back(std::move(step));
    } else {
      out.errors.emplace_back(i + 1, "unknown directive '" + line + "'");
      ++i;
    }
  }
  return out;
}

std::string Lines(const std::vector<std::string>& rows) {
  std::string text;
  for (const auto& row : rows) text += "  " + row + "\n";
  return rows.empty() ? "  (no rows)\n" : text;
}

// Checks one step's response; returns an empty string when it is as expected.
std::string Check(const Step& step, const SqlResponse& r) {
  const bool ok = r.body.at("status").as_string() == "success";
  const std::string code = r.error_code();
  const std::string got =
      ok ? "success" : code + ": " + std::string(r.body.at("error").at("message").as_string());
  if (step.expect == "error") {
    if (ok || (!step.arg.empty() && code != step.arg)) {
      return "expected error " + (step.arg.empty() ? "(any)" : step.arg) + ", got " + got;
    }
    return "";
  }
  if (!ok) return "expected success, got " + got;
  const auto& results = r.body.at("results").as_array();
  if (results.empty()) return "expected a result, got none";
  const auto& last = results.back().as_object();
  if (step.expect == "count") {
    const std::string count = json::serialize(last.at("row_count"));
    return count == step.arg ? "" : "expected row_count " + step.arg + ", got " + count;
  }
  if (step.expect == "query") {
    if (!last.contains("rows")) return "expected rows, got " + json::serialize(last);
    std::vector<std::string> actual;
    for (const auto& row : last.at("rows").as_array()) actual.push_back(json::serialize(row));
    if (actual != step.rows)
      return "rows differ\nexpected:\n" + Lines(step.rows) + "actual:\n" + Lines(actual);
  }
  return "";
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(KALAMDB_SQL_TESTS_DIR)) {
    if (entry.path().extension() == ".test") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Runs the scenario's steps in order, each through the client next() gives; a failure
// points at the file's line, so an editor can jump there. logs: the servers' logs.
void RunSteps(const std::string& file, const Scenario& scenario,
              const std::function<client::HttpClient&()>& next, const std::function<std::string()>& logs) {
  for (const auto& step : scenario.steps) {
    const std::string auth =
        step.user == "root" ? RootAuth() : client::BasicAuth(step.user, step.user + "-password");
    SqlResponse r;
    try {
      r = Sql(next(), auth, step.sql);
    } catch (const std::exception& e) {
      ADD_FAILURE_AT(file.c_str(), step.line) << "request failed: " << e.what() << "\nserver log:\n" << logs();
      return;
    }
    const std::string problem = Check(step, r);
    if (!problem.empty()) {
      ADD_FAILURE_AT(file.c_str(), step.line) << step.directive << " (as " << step.user << ")\n"
                                              << step.sql << "\n"
                                              << problem;
    }
  }
}

std::string FileOf(const std::string& name) { return std::string(KALAMDB_SQL_TESTS_DIR) + "/" + name + ".test"; }

class SqlScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(SqlScenario, Runs) {
  const std::string file = FileOf(GetParam());
  const Scenario scenario = Parse(file);
  for (const auto& [line, error] : scenario.errors) ADD_FAILURE_AT(file.c_str(), line) << error;
  if (!scenario.errors.empty()) return;
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  RunSteps(file, scenario, [&]() -> client::HttpClient& { return http; }, [&] { return server.log(); });
}

// The same files against a cluster of three nodes (one etcd for all), each statement sent
// to a node picked at random: what one node acknowledged, the next statement sees through
// any node.
class SqlScenarioInACluster : public WithEtcd<::testing::TestWithParam<std::string>> {};

TEST_P(SqlScenarioInACluster, RunsThroughRandomNodes) {
  const std::string file = FileOf(GetParam());
  const Scenario scenario = Parse(file);
  if (!scenario.errors.empty()) return;  // SqlScenario reports them
  if (!scenario.not_in_cluster.empty()) GTEST_SKIP() << "not against a cluster yet: " << scenario.not_in_cluster;
  TempDir shared;  // the cluster's cold storage, which every node reaches
  std::vector<std::unique_ptr<ServerProcess>> owned;
  std::vector<ServerProcess*> nodes;
  for (const char* id : {"s1", "s2", "s3"}) {
    owned.push_back(std::make_unique<ServerProcess>(
        ClusterNodeOptions(id, etcd_->EndpointsToml(),
                           {{"etcd_prefix", "\"/scenario-" + GetParam() + "/\""},
                            {"shared_storage_path", "\"" + shared.path() + "\""}})));
    owned.back()->Start();
    nodes.push_back(owned.back().get());
  }
  ASSERT_TRUE(WaitUntil([&] { return Balanced(nodes, 8); }, std::chrono::seconds(30)))
      << "the shards' leaders did not spread over the nodes";
  std::vector<client::HttpClient> clients;
  for (ServerProcess* node : nodes) clients.push_back(node->Client());
  const unsigned seed = static_cast<unsigned>(std::hash<std::string>{}(GetParam()));
  std::minstd_rand pick(seed);
  RunSteps(file, scenario, [&]() -> client::HttpClient& { return clients[pick() % clients.size()]; }, [&] {
    std::string all;
    for (size_t i = 0; i < nodes.size(); ++i) all += "--- node s" + std::to_string(i + 1) + "\n" + nodes[i]->log();
    return all;
  });
}

// A test's name: the file's, with '_' for what a test name can't hold.
std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, SqlScenario, ::testing::ValuesIn(ScenarioFiles()), TestName);
INSTANTIATE_TEST_SUITE_P(ClusterFiles, SqlScenarioInACluster, ::testing::ValuesIn(ScenarioFiles()), TestName);

}  // namespace
}  // namespace kalam::testing
