// KalamDB's own statements (those DuckDB's parser does not know): their syntax tree and
// their parser, one grammar for all of them (the families are parsed in parse_*.cpp).
// Everything else (SELECT, INSERT, ...) goes to DuckDB's parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace kalam::sql {

struct CreateNamespace {
  std::string name;  // folded to lower case unless quoted; not yet validated
  bool if_not_exists = false;
};
struct DropNamespace {
  std::string name;
  bool if_exists = false;
  bool cascade = false;
};
struct AlterNamespace {
  std::string name;
  // key (lower case) -> value as JSON text: "'x'" becomes "\"x\"", 42 stays 42,
  // TRUE becomes true, NULL becomes null.
  std::vector<std::pair<std::string, std::string>> options;
};
struct ShowNamespaces {};
struct ShowStorages {};

struct CreateUser {
  std::string username;  // as written in quotes, case kept
  std::string password;
  std::string role;      // lower case; not yet validated
  std::optional<std::string> email;
  bool if_not_exists = false;
};
struct AlterUser {
  enum class Field { kPassword, kRole, kEmail };
  std::string username;
  Field field = Field::kPassword;
  std::string value;  // role lower-cased
};
struct DropUser {
  std::string username;
  bool if_exists = false;
};

// A table name as written: ns may be empty (then the request's namespace applies).
struct TableName {
  std::string ns;
  std::string name;
};

struct ColumnSpec {
  std::string name;  // folded to lower case unless quoted
  // Canonical type: BOOLEAN SMALLINT INT BIGINT FLOAT DOUBLE DECIMAL TEXT BYTES JSON
  // TIMESTAMP DATE TIME UUID (aliases resolved: INT4 is INT, VARCHAR(n) is TEXT, ...).
  std::string type;
  int precision = 0;  // DECIMAL only: DECIMAL(p,s); plain DECIMAL/NUMERIC is (18,3)
  int scale = 0;
  bool not_null = false;
  bool primary_key = false;
  // Canonical default: "NOW()" (also for CURRENT_TIMESTAMP), "SNOWFLAKE_ID()" (also for
  // AUTO_INCREMENT), "UUID_V7()", "ULID()", "CURRENT_USER()", or a literal written as
  // SQL: 'text' (quotes doubled), 42, -1.5, TRUE, FALSE, NULL.
  std::optional<std::string> default_expr;
};

struct CreateTable {
  TableName table;
  bool if_not_exists = false;
  // "user" | "shared" | "stream", from the keyword, TYPE = '...' or TABLE_TYPE '...';
  // nullopt when none is given.
  std::optional<std::string> kind;
  std::vector<ColumnSpec> columns;  // in declaration order; a table-level PRIMARY KEY (c)
                                    // sets primary_key on c
  std::optional<std::string> storage_id;
  std::optional<int64_t> flush_rows;           // FLUSH_POLICY 'rows:N' / FLUSH ROWS n / ROW_THRESHOLD n
  std::optional<int64_t> flush_interval_secs;  // FLUSH_POLICY 'interval:S' / FLUSH SECONDS s / FLUSH INTERVAL s
  std::optional<int64_t> ttl_seconds;          // TTL_SECONDS = n / TTL n [SECONDS]
  std::optional<std::string> access_level;     // "public" | "private"
  std::optional<int64_t> deleted_retention_hours;
};

struct DropTable {
  TableName table;
  bool if_exists = false;
};

struct AlterTable {
  enum class Action { kAddColumn, kDropColumn, kRenameColumn };
  TableName table;
  Action action = Action::kAddColumn;
  ColumnSpec column;        // kAddColumn
  std::string column_name;  // kDropColumn, kRenameColumn: the existing column
  std::string new_name;     // kRenameColumn
};

struct ShowTables {
  std::optional<std::string> ns;  // SHOW TABLES [IN ns]
};

struct DescribeTable {
  TableName table;
  bool history = false;  // DESCRIBE TABLE t HISTORY
};

struct ShowStats {
  TableName table;  // SHOW STATS FOR TABLE t
};

// CREATE STORAGE [IF NOT EXISTS] id TYPE 't' NAME 'n' [DESCRIPTION 'd'] BASE_DIRECTORY 'p'
// [SHARED_TABLES_TEMPLATE 't'] [USER_TABLES_TEMPLATE 't'], clauses in any order.
struct CreateStorage {
  std::string id;  // folded to lower case unless quoted
  bool if_not_exists = false;
  std::string type;  // as written ('filesystem' is the only one)
  std::string name;
  std::string description;
  std::string base_directory;
  std::optional<std::string> shared_tables_template;
  std::optional<std::string> user_tables_template;
};

// ALTER STORAGE id SET NAME | DESCRIPTION | SHARED_TABLES_TEMPLATE | USER_TABLES_TEMPLATE 'v'
struct AlterStorage {
  std::string id;
  std::string field;  // name | description | shared_tables_template | user_tables_template
  std::string value;
};

struct DropStorage {
  std::string id;
  bool if_exists = false;
};

// FLUSH TABLE t, STORAGE FLUSH TABLE t (compact = false); STORAGE COMPACT TABLE t (true).
struct FlushTable {
  TableName table;
  bool compact = false;
};

// FLUSH ALL TABLES [IN ns]
struct FlushAllTables {
  std::optional<std::string> ns;
};

// KILL JOB 'id'
struct KillJob {
  std::string job_id;
};

// KILL QUERY 'query_id' (a statement of system.running_queries)
struct KillQuery {
  std::string query_id;
};

// KILL LIVE QUERY 'live_id'
struct KillLiveQuery {
  std::string live_id;
};

// SUBSCRIBE TO t [WHERE cond] [OPTIONS (name = n, ...)]
struct SubscribeTo {
  TableName table;
  std::string where_sql;  // the condition as written; "" when there is none
  std::vector<std::pair<std::string, int64_t>> options;  // names lower case, in order
};

// EXECUTE AS USER 'name' ( statement ) or EXECUTE AS 'user_id or name' ( statement )
struct ExecuteAs {
  std::string user;          // as written
  bool by_name_only = false;  // the USER form: a user name, never an id
  std::string statement;     // the text between the parentheses
};

// BACKUP DATABASE TO 'path', RESTORE DATABASE FROM 'path'.
struct BackupDatabaseTo {
  std::string path;
};
struct RestoreDatabaseFrom {
  std::string path;
};

// Topics (parse_topic.cpp). A topic's name is [ns.]name like a table's.
// CREATE TOPIC [IF NOT EXISTS] t [PARTITIONS n]
struct CreateTopic {
  TableName topic;
  bool if_not_exists = false;
  int64_t partitions = 1;
};
// DROP TOPIC [IF EXISTS] t
struct DropTopic {
  TableName topic;
  bool if_exists = false;
};
// CLEAR TOPIC t
struct ClearTopic {
  TableName topic;
};
// ALTER TOPIC t ADD SOURCE table ON INSERT|UPDATE|DELETE [WHERE cond] [WITH (payload = 'p')]
// ALTER TOPIC t DROP SOURCE table ON INSERT|UPDATE|DELETE
struct AlterTopicSource {
  TableName topic;
  bool add = true;
  TableName table;
  std::string op;         // insert | update | delete
  std::string where_sql;  // "" when there is none
  std::string payload = "full";  // key | full | diff (lower case; checked by the parser)
};
// Where a read starts: LATEST, EARLIEST or an offset.
struct TopicPosition {
  enum class Kind { kLatest, kEarliest, kOffset };
  Kind kind = Kind::kLatest;
  int64_t offset = 0;
};
// CONSUME FROM t [GROUP 'g'] [PARTITION p] [FROM LATEST|EARLIEST|offset] [LIMIT n]
struct ConsumeFrom {
  TableName topic;
  std::optional<std::string> group;
  std::optional<int64_t> partition;
  TopicPosition from;
  std::optional<int64_t> limit;
};
// ACK t GROUP 'g' [PARTITION p] UPTO OFFSET o
struct AckTopic {
  TableName topic;
  std::string group;
  int64_t partition = 0;
  int64_t upto = 0;
};
// RESET CONSUMER GROUP 'g' ON t [PARTITION p] TO offset|EARLIEST|LATEST
struct ResetConsumerGroup {
  std::string group;
  TableName topic;
  std::optional<int64_t> partition;
  TopicPosition to;
};

// BEGIN / START TRANSACTION, COMMIT / END, ROLLBACK / ABORT.
struct BeginTransaction {
  bool read_only = false;  // BEGIN READ ONLY
};
struct CommitTransaction {};
struct RollbackTransaction {};

// CLUSTER STATUS (this node's view of the cluster), CLUSTER LIST (its nodes).
struct ClusterStatus {};
struct ClusterList {};
// CLUSTER DRAIN '<node_id>' (its replicas move to other nodes) and CLUSTER UNDRAIN.
struct ClusterDrain {
  std::string node_id;
  bool draining = true;
};

using KalamStatement =
    std::variant<CreateNamespace, DropNamespace, AlterNamespace, ShowNamespaces, ShowStorages,
                 CreateUser, AlterUser, DropUser, CreateTable, DropTable, AlterTable, ShowTables,
                 DescribeTable, ShowStats, CreateStorage, AlterStorage, DropStorage, FlushTable,
                 FlushAllTables, KillJob, KillQuery, KillLiveQuery, SubscribeTo, ExecuteAs,
                 BeginTransaction, CommitTransaction, RollbackTransaction, BackupDatabaseTo,
                 RestoreDatabaseFrom, CreateTopic, DropTopic, ClearTopic, AlterTopicSource,
                 ConsumeFrom, AckTopic, ResetConsumerGroup, ClusterStatus, ClusterList, ClusterDrain>;

// nullopt: the statement is not one of these (by its leading keywords) and belongs to
// the query engine. An error: it is one of these but malformed (INVALID_SQL naming what is
// wrong, e.g. "Expected ROLE after the password in CREATE USER").
Result<std::optional<KalamStatement>> ParseKalamStatement(std::string_view sql);

}  // namespace kalam::sql
