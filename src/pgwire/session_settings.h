// What a Postgres client asks about its connection rather than about data: SET and RESET
// of session settings, SHOW of one, USE / SET search_path (the session's namespace), and
// SELECT version(), current_schema(), current_database(). These are answered here, from
// the connection's own state, without reaching the executor: they read and change nothing
// but the connection, so the guard in front of the engine has nothing to check.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "query/engine.h"
#include "query/pg_compat.h"

namespace kalam::pgwire {

struct SessionSettings {
  std::string namespace_id = "default";  // where unqualified table names resolve
  std::string database = "kalam";        // the start-up's database (any name is accepted)
  std::string user;
  bool superuser = false;
  // Settings a client set or that have a fixed value, by lower-cased name.
  std::map<std::string, std::string> values;

  // The settings at connect: the fixed ones, then the client's start-up parameters.
  static SessionSettings AtStartup(const std::map<std::string, std::string>& startup);
  // The ParameterStatus messages sent after authentication.
  std::vector<std::pair<std::string, std::string>> Reported() const;
};

struct LocalAnswer {
  std::optional<query::RowSet> rows;  // SHOW, SELECT version(), ...
  std::string tag;                    // CommandComplete
  // ParameterStatus to send (a reported setting changed).
  std::vector<std::pair<std::string, std::string>> reported;
  std::string notice;  // NoticeResponse text, when the setting is accepted but ignored
  Status error;
};

// The answer when statement is one of those above, nullopt when it is for the executor.
std::optional<LocalAnswer> AnswerLocally(std::string_view statement, SessionSettings& settings);

}  // namespace kalam::pgwire
