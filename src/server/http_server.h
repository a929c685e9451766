// HTTP on Boost.Beast: the listener, keep-alive sessions and graceful shutdown. The
// Postgres wire door (pgwire/listener.h) runs beside it on the same I/O threads and pools,
// and shuts down with it. Statements run on a pool of their own; the I/O threads only read
// and write.
#pragma once

#include <memory>

#include "common/status.h"

namespace kalam::server {

class App;

class HttpServer {
 public:
  // Binds the configured address. A port in use is an error here, not later.
  static Result<std::unique_ptr<HttpServer>> Bind(App& app);
  virtual ~HttpServer() = default;

  // Serves until SIGINT/SIGTERM, then stops accepting, lets requests in flight finish
  // (up to a deadline), closes idle connections and returns.
  virtual void Run() = 0;
  virtual uint16_t port() const = 0;
};

}  // namespace kalam::server
