// What KalamDB tells Postgres clients about itself: the version it speaks, its database,
// and the settings its behaviour fixes. Shared by the Postgres door (SHOW, SET,
// ParameterStatus) and pg_catalog (pg_settings, version()); no engine types.
#pragma once

#include <string_view>
#include <utility>

namespace kalam::query::pg {

inline constexpr std::string_view kServerVersion = "15.0";
inline constexpr std::string_view kServerVersionNum = "150000";
// What version() answers to a Postgres client.
inline constexpr std::string_view kVersionText = "PostgreSQL 15.0 (KalamDB) on x86_64-pc-linux-gnu";
// The one database pg_database lists (clients may name any at start-up).
inline constexpr std::string_view kDatabaseName = "kalam";

// Settings KalamDB's behaviour fixes, by lower-cased name: a SET may name the value in force
// (or an equivalent); pg_settings lists them and nothing else.
inline constexpr std::pair<std::string_view, std::string_view> kFixedSettings[] = {
    {"server_version", kServerVersion},
    {"server_version_num", kServerVersionNum},
    {"server_encoding", "UTF8"},
    {"client_encoding", "UTF8"},
    {"datestyle", "ISO, MDY"},
    {"timezone", "UTC"},
    {"intervalstyle", "postgres"},
    {"integer_datetimes", "on"},
    {"standard_conforming_strings", "on"},
    {"in_hot_standby", "off"},
    {"max_identifier_length", "63"},
    // Snapshot isolation, which Postgres calls repeatable read.
    {"transaction_isolation", "repeatable read"},
    {"default_transaction_isolation", "repeatable read"},
};

}  // namespace kalam::query::pg
