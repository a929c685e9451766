#include "client/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>

#include "common/encoding.h"

namespace kalam::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Connection {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool open = false;
};

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return {};
}

HttpClient::HttpClient(std::string host, uint16_t port)
    : host_(std::move(host)), port_(port), connection_(std::make_unique<Connection>()) {}
HttpClient::~HttpClient() { Close(); }
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::Arm(Connection& c) const {
  if (timeout_.count() > 0) {
    c.stream.expires_after(timeout_);
  } else {
    c.stream.expires_never();
  }
}

void HttpClient::Await(Connection& c) {
  c.io.restart();
  c.io.run();
}

void HttpClient::Close() {
  if (connection_ && connection_->open) {
    beast::error_code ec;
    connection_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    connection_->stream.close();
    connection_->open = false;
  }
}

namespace {

Status Unreachable(const std::string& host, uint16_t port, const beast::error_code& ec) {
  return {Code::kInternalError, "Cannot reach the server at " + host + ":" +
                                    std::to_string(port) + ": " + ec.message()};
}

// Keepalive probes every second after a second of silence, two unanswered ones ending the
// connection; and data unacknowledged for timeout ends it too.
void WatchForDeadPeer(int fd, std::chrono::milliseconds timeout) {
  const int on = 1, idle = 1, interval = 1;
  const int probes = std::max<int>(1, static_cast<int>(timeout.count() / 1000) - 1);
  const unsigned user_timeout = static_cast<unsigned>(timeout.count());
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
}

HttpResponse ToResponse(http::response<http::string_body>& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

}  // namespace

Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                      std::string_view body, const Headers& headers) {
  http::request<http::string_body> req{http::string_to_verb(method), std::string(target), 11};
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "kalam-client");
  req.keep_alive(true);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST") {
    if (req.find(http::field::content_type) == req.end()) {
      req.set(http::field::content_type, "application/json");
    }
    req.body() = std::string(body);
    req.prepare_payload();
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    Connection& c = *connection_;
    beast::error_code ec;
    if (!c.open) {
      tcp::resolver resolver(c.io);
      auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
      if (ec) return Unreachable(host_, port_, ec);
      if (connect_timeout_.count() > 0) {
        c.stream.expires_after(connect_timeout_);
      } else {
        Arm(c);
      }
      c.stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
      Await(c);
      if (ec) return Unreachable(host_, port_, ec);
      c.stream.socket().set_option(tcp::no_delay(true));
      if (dead_peer_timeout_.count() > 0) WatchForDeadPeer(c.stream.socket().native_handle(), dead_peer_timeout_);
      c.open = true;
      c.buffer.clear();
    }
    beast::error_code write_ec;
    Arm(c);
    http::async_write(c.stream, req, [&](beast::error_code e, size_t) { write_ec = e; });
    Await(c);
    // Even when the write failed part-way (a server refusing an oversized body closes
    // early), the server's answer may be there to read.
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024ull * 1024 * 1024);
    Arm(c);
    http::async_read(c.stream, c.buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    Await(c);
    if (ec && write_ec) ec = write_ec;
    if (ec) {
      Close();
      // A kept-alive connection the server closed meanwhile: try once on a new one.
      if (attempt == 0 && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                           ec == asio::error::broken_pipe || ec == asio::error::eof)) {
        continue;
      }
      return Unreachable(host_, port_, ec);
    }
    auto res = parser.release();
    if (!res.keep_alive()) Close();
    return ToResponse(res);
  }
  return Status(Code::kInternalError, "unreachable");
}

Result<HttpResponse> HttpClient::SendRaw(std::string_view bytes) {
  Close();
  Connection& c = *connection_;
  beast::error_code ec;
  tcp::resolver resolver(c.io);
  auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
  if (!ec) c.stream.connect(endpoints, ec);
  if (ec) return Unreachable(host_, port_, ec);
  c.open = true;
  c.buffer.clear();
  asio::write(c.stream, asio::buffer(bytes.data(), bytes.size()), ec);
  http::response_parser<http::string_body> parser;
  if (!ec) http::read(c.stream, c.buffer, parser, ec);
  if (ec) {
    Close();
    return Unreachable(host_, port_, ec);
  }
  auto res = parser.release();
  Close();
  return ToResponse(res);
}

std::string BasicAuth(std::string_view username, std::string_view password) {
  std::string credentials(username);
  credentials += ':';
  credentials += password;
  return "Basic " + Base64Encode(credentials);
}

}  // namespace kalam::client
