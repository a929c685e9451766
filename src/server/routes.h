// The HTTP routes of docs/api.md: request in, JSON response out. No I/O here.
#pragma once

#include <boost/beast/http.hpp>
#include <string>

#include "common/status.h"
#include "server/rate_limiter.h"

namespace kalam::server {

class App;

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class Routes {
 public:
  explicit Routes(App& app);

  Response Handle(const Request& request, bool from_loopback);
  // A JSON error response: {"status":"error","error":{"code","message"}}.
  Response Error(Code code, const std::string& message, unsigned version, bool keep_alive) const;
  // Whether handling may block (authentication, statements): then it runs on the query pool.
  static bool NeedsPool(const Request& request);

 private:
  Response Sql(const Request& request, bool from_loopback);
  Response Login(const Request& request, bool from_loopback);
  Response Refresh(const Request& request);
  Response Me(const Request& request, bool from_loopback);
  Response Json(unsigned status, std::string body, const Request& request) const;

  App& app_;
  RateLimiter rate_limiter_;
};

}  // namespace kalam::server
