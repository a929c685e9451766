// Pieces shared by the load generators bench/live_bench.cpp and bench/chat_bench.cpp:
// key=value options, timing and percentiles, /proc figures of a process, a blocking HTTP
// client for POST /v1/api/sql, and a hand-written WebSocket client side (RFC 6455: the
// upgrade, masked client frames, unmasked server frames parsed in bulk) cheap enough to
// run thousands of connections on one thread.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace wsb {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// ------------------------------------------------------------------ options and failure
inline std::map<std::string, std::string> opts;
// The first word of the line fail() prints ("LIVE_ERROR", "CHAT_ERROR", ...).
inline std::string error_tag = "ERROR";

// Prints "<error_tag> why" and ends the process at once (other threads may be running).
[[noreturn]] inline void fail(const std::string& why) {
  std::cout << error_tag << " " << why << std::endl;
  std::_Exit(1);
}

// argv[2..] as key=value pairs into opts.
inline void parse_options(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (eq == std::string::npos) fail("bad argument " + a);
    opts[a.substr(0, eq)] = a.substr(eq + 1);
  }
}

inline std::string opt(const std::string& k, const std::string& def = "") {
  auto it = opts.find(k);
  return it == opts.end() ? def : it->second;
}
inline long long opt_int(const std::string& k, long long def) {
  auto it = opts.find(k);
  return it == opts.end() ? def : std::stoll(it->second);
}

// ------------------------------------------------------------------ time and statistics
inline int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Waits until pred() or the deadline; false on timeout.
template <class P>
bool wait_until(P pred, int seconds) {
  const int64_t end = now_us() + seconds * 1000000LL;
  while (!pred()) {
    if (now_us() > end) return false;
    sleep_ms(1);
  }
  return true;
}

// Nearest-rank percentile of sorted values.
inline int64_t pct(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return -1;
  size_t i = static_cast<size_t>(std::ceil(p * sorted.size()));
  if (i < 1) i = 1;
  if (i > sorted.size()) i = sorted.size();
  return sorted[i - 1];
}

// "<prefix>_n=.. <prefix>_p50_us=.. _p90_us _p99_us _p999_us _max_us _mean_us".
inline std::string summary(const std::string& prefix, std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (auto x : v) sum += x;
  std::ostringstream o;
  o << prefix << "_n=" << v.size() << " " << prefix << "_p50_us=" << pct(v, 0.50) << " " << prefix
    << "_p90_us=" << pct(v, 0.90) << " " << prefix << "_p99_us=" << pct(v, 0.99) << " " << prefix
    << "_p999_us=" << pct(v, 0.999) << " " << prefix << "_max_us=" << (v.empty() ? -1 : v.back())
    << " " << prefix << "_mean_us=" << (v.empty() ? -1 : static_cast<int64_t>(sum / v.size()));
  return o.str();
}

// ------------------------------------------------------------------ another process
inline long rss_kb(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// CPU seconds (user + system) of a process, from /proc/<pid>/stat.
inline double cpu_s(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / sysconf(_SC_CLK_TCK);
}

inline double self_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

// ------------------------------------------------------------------ HTTP (blocking)
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

inline std::string base64(std::string_view in) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(abc[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(abc[(v >> 18) & 63]);
    out.push_back(abc[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? abc[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// One keep-alive connection; auth is the Authorization header's value.
class Http {
 public:
  Http(asio::io_context& io, int port, std::string auth) : stream_(io), auth_(std::move(auth)) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_.socket().set_option(tcp::no_delay(true));
    host_ = "127.0.0.1:" + std::to_string(port);
  }
  // POST target with a JSON body; returns the answer's body, fails on a status other than
  // 200 or an answer whose status is "error".
  std::string post(const std::string& target, const std::string& body) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, host_);
    req.set(http::field::authorization, auth_);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (res.result() != http::status::ok || res.body().find("\"status\":\"error\"") != std::string::npos) {
      fail("HTTP " + std::to_string(res.result_int()) + " on " + target + ": " + res.body().substr(0, 300));
    }
    return std::move(res.body());
  }
  // POST /v1/api/sql; returns the body, fails unless the statements succeeded.
  std::string sql(const std::string& statement) {
    std::string body = post("/v1/api/sql", "{\"sql\":" + json_string(statement) + "}");
    if (body.rfind("{\"status\":\"success\"", 0) != 0) fail("SQL answer: " + body.substr(0, 300));
    return body;
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string auth_, host_;
};

// The number in `"rows":[[N]]` of a one-value result, or -1.
inline long count_of(const std::string& body) {
  size_t at = body.find("\"rows\":[[");
  return at == std::string::npos ? -1 : std::stol(body.substr(at + 9));
}

// ------------------------------------------------------------------ WebSocket, by hand
// A masked client text frame.
inline std::string ws_frame(const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(0x81));
  const size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff));
  }
  static std::atomic<uint32_t> seed{0x9e3779b9};
  const uint32_t key = seed.fetch_add(0x6d2b79f5);
  const unsigned char mask[4] = {static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
                                 static_cast<unsigned char>(key >> 8), static_cast<unsigned char>(key)};
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

// Connects socket to 127.0.0.1:port and upgrades GET target (extra_headers: whole header
// lines, each ending in \r\n). Returns the bytes read past the 101 answer's head; throws
// when the upgrade is refused.
inline asio::awaitable<std::string> ws_connect(tcp::socket& socket, int port, const std::string& target,
                                               const std::string& extra_headers = "") {
  co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                asio::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  const std::string upgrade = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n" +
                              extra_headers + "\r\n";
  co_await asio::async_write(socket, asio::buffer(upgrade), asio::use_awaitable);
  std::string data;
  char chunk[4096];
  size_t head_end;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    size_t n = co_await socket.async_read_some(asio::buffer(chunk), asio::use_awaitable);
    data.append(chunk, n);
  }
  if (data.rfind("HTTP/1.1 101", 0) != 0) {
    throw std::runtime_error("upgrade refused: " + data.substr(0, data.find("\r\n")));
  }
  data.erase(0, head_end + 4);
  co_return data;
}

// Takes the complete server frames off the front of data: on_text(payload) for each whole
// text message (fragments joined in `fragments`), ++*other for pings, pongs and binary
// frames. A close frame throws system_error(eof).
template <class OnText>
void ws_take_frames(std::string& data, std::string& fragments, OnText&& on_text, std::atomic<long>& other) {
  size_t pos = 0;
  while (data.size() - pos >= 2) {
    const unsigned char b0 = data[pos], b1 = data[pos + 1];
    uint64_t len = b1 & 0x7f;
    size_t head = 2;
    if (len == 126) {
      if (data.size() - pos < 4) break;
      len = (static_cast<unsigned char>(data[pos + 2]) << 8) | static_cast<unsigned char>(data[pos + 3]);
      head = 4;
    } else if (len == 127) {
      if (data.size() - pos < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(data[pos + 2 + i]);
      head = 10;
    }
    if (b1 & 0x80) head += 4;  // servers do not mask; skip a key all the same
    if (data.size() - pos < head + len) break;
    std::string_view payload(data.data() + pos + head, len);
    const int opcode = b0 & 0x0f;
    const bool fin = b0 & 0x80;
    if (opcode == 1 || opcode == 0) {
      if (fin && fragments.empty()) {
        on_text(payload);
      } else {
        fragments.append(payload);
        if (fin) {
          on_text(std::string_view(fragments));
          fragments.clear();
        }
      }
    } else if (opcode == 8) {
      throw boost::system::system_error(asio::error::eof);
    } else {
      other++;  // ping, pong, binary
    }
    pos += head + len;
  }
  data.erase(0, pos);
}

// True for the errors of a connection closed on purpose (by either side).
inline bool closed_on_purpose(const boost::system::error_code& e) {
  return e == asio::error::operation_aborted || e == asio::error::eof || e == asio::error::bad_descriptor;
}

}  // namespace wsb
