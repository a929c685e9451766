// Runs every SQL scenario file tests/sql/*.test as its own test, each on a fresh server.
// The file format is described in tests/sql/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

class SqlScenario : public ::testing::TestWithParam<std::string> {};

// Failures point at the scenario file's line, so an editor can jump there.
TEST_P(SqlScenario, Runs) {
  const std::string file = std::string(KALAMDB_SQL_TESTS_DIR) + "/" + GetParam() + ".test";
  const Scenario scenario = Parse(file);
  for (const auto& [line, error] : scenario.errors) ADD_FAILURE_AT(file.c_str(), line) << error;
  if (!scenario.errors.empty()) return;

  ServerProcess server;
  server.Start();
  auto http = server.Client();
  for (const auto& step : scenario.steps) {
    const std::string auth =
        step.user == "root" ? RootAuth() : client::BasicAuth(step.user, step.user + "-password");
    SqlResponse r;
    try {
      r = Sql(http, auth, step.sql);
    } catch (const std::exception& e) {
      ADD_FAILURE_AT(file.c_str(), step.line) << "request failed: " << e.what() << "\nserver log:\n"
                                              << server.log();
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

INSTANTIATE_TEST_SUITE_P(Files, SqlScenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace kalam::testing
