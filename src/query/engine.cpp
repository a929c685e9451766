#include "query/engine.h"

#include <thread>
#include <unordered_map>

#include "catalog/catalog.h"
#include "duckdb/main/extension/extension_loader.hpp"
#include "duckdb/parser/parser.hpp"
#include "query/result_encoder.h"
#include "query/sql_guard.h"
#include "query/system_tables.h"

namespace kalam::query {
namespace {

// What a pooled connection is running for: set by the thread that runs the statement
// before it runs, read by the scans it binds (binding happens on that same thread).
struct ConnectionSlot {
  std::unique_ptr<duckdb::Connection> connection;
  auth::Caller caller;
  std::shared_ptr<const catalog::CatalogState> state;
};

class Engine;

struct EngineInfo : duckdb::TableFunctionInfo {
  explicit EngineInfo(Engine* e) : engine(e) {}
  Engine* engine;
};

struct SystemScanData : duckdb::TableFunctionData {
  std::vector<Row> rows;
};

struct SystemScanState : duckdb::GlobalTableFunctionState {
  size_t next = 0;
};

Code CodeForError(duckdb::ExceptionType type) {
  using duckdb::ExceptionType;
  switch (type) {
    case ExceptionType::PARSER:
    case ExceptionType::BINDER:
    case ExceptionType::CATALOG:
    case ExceptionType::SYNTAX:
      return Code::kInvalidSql;
    case ExceptionType::PERMISSION:
      return Code::kPermissionDenied;
    case ExceptionType::CONSTRAINT:
      return Code::kConstraintViolation;
    case ExceptionType::INTERNAL:
    case ExceptionType::FATAL:
      return Code::kInternalError;
    default:
      return Code::kSqlExecutionError;
  }
}

Status FromError(const duckdb::ErrorData& error) {
  Code code = CodeForError(error.Type());
  if (code == Code::kInternalError) return {code, "The query failed inside the engine"};
  return {code, error.RawMessage()};
}

class Engine final : public QueryEngine {
 public:
  Engine(catalog::Catalog& catalog, const EngineOptions& options)
      : catalog_(catalog), options_(options) {}

  Status Start() {
    duckdb::DBConfig config;
    try {
      const int threads = options_.threads > 0
                              ? options_.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      config.SetOptionByName("threads", duckdb::Value::BIGINT(threads));
      config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
      config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
      config.SetOptionByName("allow_community_extensions", duckdb::Value::BOOLEAN(false));
      db_ = std::make_unique<duckdb::DuckDB>(nullptr, &config);
      KALAM_RETURN_IF_ERROR(LockDown());

      duckdb::TableFunction scan(kSystemScanFunction, {duckdb::LogicalType::VARCHAR},
                                 SystemScan, SystemScanBind, SystemScanInit);
      scan.function_info = duckdb::make_shared_ptr<EngineInfo>(this);
      duckdb::ExtensionLoader loader(*db_->instance, "kalam");
      loader.RegisterFunction(scan);

      const int connections = std::max(1, options_.connections);
      for (int i = 0; i < connections; ++i) {
        auto slot = std::make_unique<ConnectionSlot>();
        slot->connection = std::make_unique<duckdb::Connection>(*db_);
        slots_by_context_[slot->connection->context.get()] = slot.get();
        free_.push_back(slot.get());
        slots_.push_back(std::move(slot));
      }
    } catch (const std::exception& e) {
      return {Code::kInternalError, std::string("Cannot start the query engine: ") + e.what()};
    }
    return Status::Ok();
  }

  Result<RowSet> Query(const QueryContext& context, std::string_view sql) override {
    duckdb::unique_ptr<duckdb::SQLStatement> statement;
    try {
      duckdb::Parser parser;
      parser.ParseQuery(std::string(sql));
      if (parser.statements.size() != 1) {
        return Status(Code::kInvalidSql, "Expected exactly one statement");
      }
      statement = std::move(parser.statements[0]);
    } catch (const std::exception& e) {
      return Status(Code::kInvalidSql, duckdb::ErrorData(e).RawMessage());
    }

    auto state = catalog_.snapshot();
    GuardContext guard{*state, context.caller, context.default_namespace};
    KALAM_RETURN_IF_ERROR(GuardStatement(*statement, guard));

    ConnectionSlot* slot = Acquire();
    slot->caller = context.caller;
    slot->state = state;
    Result<RowSet> result = Run(*slot, std::move(statement));
    slot->state.reset();
    Release(slot);
    return result;
  }

  // The second wall (the first is sql_guard): DuckDB itself reaches no file outside the
  // storage directory, installs and loads no extension, and its settings are frozen.
  // allowed_directories can only be set once the database runs.
  Status LockDown() {
    duckdb::Connection connection(*db_);
    std::string dir = options_.storage_dir;
    std::string quoted;
    for (char c : dir) quoted += (c == '\'' ? std::string("''") : std::string(1, c));
    for (const std::string& sql :
         {"SET allowed_directories = ['" + quoted + "']", std::string("SET enable_external_access = false"),
          std::string("SET lock_configuration = true")}) {
      auto result = connection.Query(sql);
      if (result->HasError()) {
        return {Code::kInternalError, "Cannot lock the query engine down: " + result->GetError()};
      }
    }
    return Status::Ok();
  }

  const ConnectionSlot* SlotFor(duckdb::ClientContext& context) const {
    auto it = slots_by_context_.find(&context);
    return it == slots_by_context_.end() ? nullptr : it->second;
  }

 private:
  Result<RowSet> Run(ConnectionSlot& slot, duckdb::unique_ptr<duckdb::SQLStatement> statement) {
    try {
      auto result = slot.connection->Query(std::move(statement));
      if (result->HasError()) return FromError(result->GetErrorObject());
      return EncodeResult(*result, options_.max_result_rows);
    } catch (const std::exception& e) {
      return FromError(duckdb::ErrorData(e));
    }
  }

  ConnectionSlot* Acquire() {
    std::unique_lock lock(pool_mutex_);
    pool_cv_.wait(lock, [&] { return !free_.empty(); });
    ConnectionSlot* slot = free_.back();
    free_.pop_back();
    return slot;
  }

  void Release(ConnectionSlot* slot) {
    {
      std::lock_guard lock(pool_mutex_);
      free_.push_back(slot);
    }
    pool_cv_.notify_one();
  }

  static duckdb::unique_ptr<duckdb::FunctionData> SystemScanBind(
      duckdb::ClientContext& context, duckdb::TableFunctionBindInput& input,
      duckdb::vector<duckdb::LogicalType>& return_types, duckdb::vector<std::string>& names) {
    auto* engine = input.info->Cast<EngineInfo>().engine;
    const ConnectionSlot* slot = engine->SlotFor(context);
    const std::string full_name = input.inputs[0].GetValue<std::string>();
    const auto dot = full_name.find('.');
    const SystemTable* table =
        FindSystemTable(full_name.substr(0, dot), full_name.substr(dot + 1));
    // The guard let this scan in for this caller; check again rather than trust it.
    if (slot == nullptr || !slot->state || table == nullptr || slot->caller.role < table->min_role) {
      throw duckdb::PermissionException("Permission denied");
    }
    auto data = duckdb::make_uniq<SystemScanData>();
    data->rows = table->rows(*slot->state, slot->caller);
    return_types.assign(table->column_types.begin(), table->column_types.end());
    names.assign(table->column_names.begin(), table->column_names.end());
    return data;
  }

  static duckdb::unique_ptr<duckdb::GlobalTableFunctionState> SystemScanInit(
      duckdb::ClientContext&, duckdb::TableFunctionInitInput&) {
    return duckdb::make_uniq<SystemScanState>();
  }

  static void SystemScan(duckdb::ClientContext&, duckdb::TableFunctionInput& input,
                         duckdb::DataChunk& output) {
    const auto& data = input.bind_data->Cast<SystemScanData>();
    auto& state = input.global_state->Cast<SystemScanState>();
    idx_t count = 0;
    while (state.next < data.rows.size() && count < STANDARD_VECTOR_SIZE) {
      const Row& row = data.rows[state.next++];
      for (idx_t c = 0; c < row.size(); ++c) output.SetValue(c, count, row[c]);
      ++count;
    }
    output.SetCardinality(count);
  }

  catalog::Catalog& catalog_;
  EngineOptions options_;
  std::unique_ptr<duckdb::DuckDB> db_;
  std::vector<std::unique_ptr<ConnectionSlot>> slots_;
  std::unordered_map<const duckdb::ClientContext*, ConnectionSlot*> slots_by_context_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<ConnectionSlot*> free_;
};

}  // namespace

Result<std::unique_ptr<QueryEngine>> QueryEngine::Open(catalog::Catalog& catalog,
                                                       const EngineOptions& options) {
  auto engine = std::make_unique<Engine>(catalog, options);
  KALAM_RETURN_IF_ERROR(engine->Start());
  return std::unique_ptr<QueryEngine>(std::move(engine));
}

}  // namespace kalam::query
