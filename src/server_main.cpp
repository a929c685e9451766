// kalamdb-server: configuration (src/common/config.h), logging, start-up and graceful shutdown.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <optional>

#include "common/config.h"
#include "common/recent_logs.h"
#include "jobs/backup.h"
#include "server/app.h"
#include "server/http_server.h"

namespace {

void SetUpLogging(const kalam::Config::Logging& logging) {
  // Standard error, and the ring of recent lines system.server_logs reads.
  auto logger = std::make_shared<spdlog::logger>(
      "kalamdb", spdlog::sinks_init_list{std::make_shared<spdlog::sinks::stderr_sink_mt>(), kalam::RecentLogSink()});
  if (logging.format == "json") {
    logger->set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,"msg":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(logging.level));
  spdlog::set_default_logger(logger);
}

}  // namespace

// jemalloc (linked into the server): freed memory goes back to the system within a second
// or two, from a background thread, instead of lingering after a burst.
extern "C" {
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000";
}

int main(int argc, char** argv) {
  CLI::App cli{"KalamDB server: SQL over HTTP and the Postgres wire protocol, live queries over WebSocket"};
  std::optional<std::string> config_path;
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  std::optional<std::string> data_path;
  cli.add_option("--config", config_path, "TOML configuration file");
  cli.add_option("--host", host, "address to listen on (default 127.0.0.1)");
  cli.add_option("--port", port, "port to listen on (default 8080)");
  cli.add_option("--data-path", data_path, "data directory (default ./data)");
  std::optional<std::string> restore;
  cli.add_option("--restore", restore,
                 "put the backup in this directory into the data directory (which must be new or "
                 "empty), then exit");
  CLI11_PARSE(cli, argc, argv);

  auto config = kalam::LoadConfig(config_path);
  if (!config.ok()) {
    fprintf(stderr, "kalamdb-server: %s\n", config.status().message().c_str());
    return 2;
  }
  if (host) config->server.host = *host;
  if (port) config->server.port = *port;
  if (data_path) config->storage.data_path = *data_path;
  SetUpLogging(config->logging);

  // Everything the server creates is its owner's alone: RocksDB files hold password
  // hashes, Parquet segments hold users' rows.
  ::umask(077);
  if (restore) {
    kalam::Status restored = kalam::jobs::RestoreDatabase(*restore, config->storage.data_path);
    if (!restored.ok()) {
      spdlog::critical("cannot restore: {}", restored.message());
      return 1;
    }
    spdlog::info("restored the backup {} into {}", *restore, config->storage.data_path);
    return 0;
  }
  auto app = kalam::server::App::Open(*config);
  if (!app.ok()) {
    spdlog::critical("cannot start: {}", app.status().message());
    return 1;
  }
  auto server = kalam::server::HttpServer::Bind(**app);
  if (!server.ok()) {
    spdlog::critical("cannot start: {}", server.status().message());
    return 1;
  }
  spdlog::info("kalamdb-server listening on http://{}:{} (data in {})", config->server.host,
               (*server)->port(), config->storage.data_path);
  (*server)->Run();
  // Connections the shutdown deadline cut off still hold sessions (open transactions):
  // they end with the server, before the store closes.
  server->reset();
  kalam::Status closed = (*app)->Close();
  if (!closed.ok()) {
    spdlog::error("closing the store failed: {}", closed.message());
    return 1;
  }
  spdlog::info("kalamdb-server stopped");
  return 0;
}
