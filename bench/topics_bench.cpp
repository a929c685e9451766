// Load generator of bench/topics.sh: topics on KalamDB (INSERT into a source table over
// POST /v1/api/sql; POST /v1/api/topics/consume + /ack) against Redis Streams (XADD,
// XREADGROUP, XACK), all on 127.0.0.1, blocking clients on threads of their own.
//
//   kalam-e2e port= auth= topic= rate= seconds=     producer at `rate` rows/s, one consumer
//   redis-e2e port= rate= seconds=                  long-polling in a group; latency =
//                                                   INSERT/XADD sent -> message received
//   kalam-drain port= auth= topic= n= batch=        drain n messages already in the topic:
//   redis-drain port= n= batch=                     consume `batch`, ack, repeat
//   kalam-insert port= auth= seconds= clients=      single-row INSERTs into bench.plain
//   kalam-waiters port= auth= topic= n= seconds= pid=  n long polls (a group each) wait;
//                                                   the server's CPU meanwhile, then one
//                                                   INSERT: until all n have their message
//
// Prints one line "TOPICS_RESULT key=value ..." (latencies in µs), or "TOPICS_ERROR ...".
#include "ws_bench.h"

#include <fstream>
#include <iterator>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> opts;

[[noreturn]] void fail(const std::string& message) {
  std::cout << "TOPICS_ERROR " << message << std::endl;
  std::exit(1);
}

std::string opt(const std::string& key, const std::string& fallback = "") {
  auto it = opts.find(key);
  if (it != opts.end()) return it->second;
  if (fallback.empty()) fail("missing " + key + "=");
  return fallback;
}
long optl(const std::string& key, const std::string& fallback = "") { return std::stol(opt(key, fallback)); }

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

std::string percentiles(const std::string& prefix, std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) { return v.empty() ? -1 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))]; };
  std::ostringstream o;
  o << prefix << "_n=" << v.size() << " " << prefix << "_p50_us=" << pct(0.5) << " " << prefix
    << "_p99_us=" << pct(0.99) << " " << prefix << "_max_us=" << (v.empty() ? -1 : v.back());
  return o.str();
}

// Every "key":"<digits>" in a consume answer, with the last "offset".
void parse_messages(const std::string& body, std::vector<int64_t>& keys, int64_t& last_offset) {
  size_t at = 0;
  while ((at = body.find("\"offset\":", at)) != std::string::npos) {
    at += 9;
    last_offset = std::strtoll(body.c_str() + at, nullptr, 10);
    size_t k = body.find("\"key\":\"", at);
    if (k == std::string::npos) break;
    keys.push_back(std::strtoll(body.c_str() + k + 7, nullptr, 10));
    at = k;
  }
}

using wsb::cpu_s;
using wsb::Http;

std::string resp(const std::vector<std::string>& words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const auto& w : words) out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
  return out;
}

// A blocking RESP connection that reads one whole reply (nested arrays included) as text.
class Redis {
 public:
  Redis(asio::io_context& io, int port) : socket_(io) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    socket_.set_option(tcp::no_delay(true));
  }
  std::string call(const std::vector<std::string>& words) {
    asio::write(socket_, asio::buffer(resp(words)));
    return reply();
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // One reply; the bulk strings' contents are in it as they came.
  std::string reply() {
    while (true) {
      size_t end = 0;
      if (complete(0, end)) {
        std::string r = data_.substr(0, end);
        data_.erase(0, end);
        if (!r.empty() && r[0] == '-') fail("Redis: " + r.substr(0, 200));
        return r;
      }
      char chunk[65536];
      size_t n = socket_.read_some(asio::buffer(chunk));
      data_.append(chunk, n);
    }
  }

 private:
  // Whether a whole value starts at pos; end: one past it.
  bool complete(size_t pos, size_t& end) {
    if (pos >= data_.size()) return false;
    size_t eol = data_.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    const char type = data_[pos];
    const long n = std::strtol(data_.c_str() + pos + 1, nullptr, 10);
    size_t at = eol + 2;
    if (type == '$') {
      if (n < 0) { end = at; return true; }
      if (data_.size() < at + n + 2) return false;
      end = at + n + 2;
      return true;
    }
    if (type == '*') {
      for (long i = 0; i < n; ++i) {
        size_t e = 0;
        if (!complete(at, e)) return false;
        at = e;
      }
      end = at;
      return true;
    }
    end = at;
    return true;
  }
  tcp::socket socket_;
  std::string data_;
};

// The entries of an XREADGROUP reply: (entry id, the "id" field's number). An entry is
// *2 [entry id, *4 ["id", n, "payload", json]].
std::vector<std::pair<std::string, int64_t>> stream_entries(const std::string& reply) {
  std::vector<std::pair<std::string, int64_t>> out;
  const std::string marker = "\r\n*4\r\n$2\r\nid\r\n$";
  size_t at = 0;
  while ((at = reply.find(marker, at)) != std::string::npos) {
    const size_t before = reply.rfind("\r\n", at - 1);
    std::string entry = reply.substr(before + 2, at - before - 2);
    const size_t digits = reply.find("\r\n", at + marker.size()) + 2;
    out.emplace_back(std::move(entry), std::strtoll(reply.c_str() + digits, nullptr, 10));
    at += marker.size();
  }
  return out;
}

// XACK of every entry of a reply.
void ack_entries(Redis& r, const std::string& group, const std::vector<std::pair<std::string, int64_t>>& entries) {
  if (entries.empty()) return;
  std::vector<std::string> ack{"XACK", "bench", group};
  for (const auto& e : entries) ack.push_back(e.first);
  r.call(ack);
}

const std::string kBody = "{\"room\":\"r1\",\"author\":\"author-1\",\"body\":\"hello from the producer\"}";

int e2e(bool kalam) {
  const int port = static_cast<int>(optl("port"));
  const long rate = optl("rate", "1000");
  const long seconds = optl("seconds", "10");
  const std::string topic = kalam ? opt("topic") : "bench";
  std::mutex mutex;
  std::unordered_map<int64_t, int64_t> sent;
  std::vector<int64_t> latencies;
  std::atomic<bool> producing = true;
  std::atomic<int64_t> produced = 0;
  std::thread consumer([&] {
    asio::io_context io;
    std::unique_ptr<Http> h;
    std::unique_ptr<Redis> r;
    if (kalam) h = std::make_unique<Http>(io, port, opt("auth")); else r = std::make_unique<Redis>(io, port);
    int64_t received = 0;
    while (producing || received < produced) {
      std::vector<int64_t> ids;
      if (kalam) {
        int64_t last = -1;
        parse_messages(h->post("/v1/api/topics/consume", "{\"topic_id\":\"" + topic +
                                                             "\",\"group_id\":\"e2e\",\"start\":\"Latest\","
                                                             "\"limit\":100,\"timeout_seconds\":2}"),
                       ids, last);
        const int64_t at = now_us();
        if (last >= 0) {
          h->post("/v1/api/topics/ack", "{\"topic_id\":\"" + topic + "\",\"group_id\":\"e2e\",\"partition_id\":0,"
                                        "\"upto_offset\":" + std::to_string(last) + "}");
        }
        std::lock_guard lock(mutex);
        for (int64_t id : ids) if (auto it = sent.find(id); it != sent.end()) latencies.push_back(at - it->second);
      } else {
        const auto entries = stream_entries(r->call({"XREADGROUP", "GROUP", "e2e", "c1", "COUNT", "100", "BLOCK",
                                                     "2000", "STREAMS", "bench", ">"}));
        const int64_t at = now_us();
        for (const auto& e : entries) ids.push_back(e.second);
        ack_entries(*r, "e2e", entries);
        std::lock_guard lock(mutex);
        for (int64_t id : ids) if (auto it = sent.find(id); it != sent.end()) latencies.push_back(at - it->second);
      }
      received += static_cast<int64_t>(ids.size());
      if (!producing && ids.empty()) break;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the consumer's group exists first
  {
    asio::io_context io;
    std::unique_ptr<Http> h;
    std::unique_ptr<Redis> r;
    if (kalam) h = std::make_unique<Http>(io, port, opt("auth")); else r = std::make_unique<Redis>(io, port);
    const auto start = Clock::now();
    const int64_t total = rate * seconds;
    for (int64_t i = 0; i < total; ++i) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(i * 1000000 / rate));
      const int64_t id = 1000000000 + i;
      {
        std::lock_guard lock(mutex);
        sent[id] = now_us();
      }
      if (kalam) {
        h->sql("INSERT INTO bench.events (id, room, author, body) VALUES (" + std::to_string(id) +
               ", 'r1', 'author-1', 'hello from the producer')");
      } else {
        r->call({"XADD", "bench", "*", "id", std::to_string(id), "payload", kBody});
      }
      ++produced;
    }
  }
  producing = false;
  consumer.join();
  std::cout << "TOPICS_RESULT produced=" << produced << " " << percentiles("e2e", latencies) << std::endl;
  return 0;
}

int drain(bool kalam) {
  const int port = static_cast<int>(optl("port"));
  const long n = optl("n");
  const long batch = optl("batch", "100");
  asio::io_context io;
  int64_t received = 0;
  const auto start = Clock::now();
  if (kalam) {
    Http h(io, port, opt("auth"));
    const std::string topic = opt("topic");
    while (received < n) {
      std::vector<int64_t> ids;
      int64_t last = -1;
      parse_messages(h.post("/v1/api/topics/consume", "{\"topic_id\":\"" + topic +
                                                          "\",\"group_id\":\"drain\",\"start\":\"Earliest\",\"limit\":" +
                                                          std::to_string(batch) + "}"),
                     ids, last);
      if (ids.empty()) fail("the topic ran dry after " + std::to_string(received) + " messages");
      h.post("/v1/api/topics/ack", "{\"topic_id\":\"" + topic + "\",\"group_id\":\"drain\",\"partition_id\":0,"
                                   "\"upto_offset\":" + std::to_string(last) + "}");
      received += static_cast<int64_t>(ids.size());
    }
  } else {
    Redis r(io, port);
    while (received < n) {
      const auto entries = stream_entries(r.call({"XREADGROUP", "GROUP", "drain", "c1", "COUNT",
                                                  std::to_string(batch), "STREAMS", "bench", ">"}));
      if (entries.empty()) fail("the stream ran dry after " + std::to_string(received) + " messages");
      ack_entries(r, "drain", entries);
      std::vector<int64_t> ids(entries.size());
      received += static_cast<int64_t>(ids.size());
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "TOPICS_RESULT drained=" << received << " drain_per_s=" << static_cast<int64_t>(received / secs)
            << std::endl;
  return 0;
}

// Fills the Redis stream with n entries (pipelined) and makes the group at its start.
int redis_fill() {
  asio::io_context io;
  Redis r(io, static_cast<int>(optl("port")));
  const long n = optl("n");
  r.call({"XGROUP", "CREATE", "bench", "drain", "0", "MKSTREAM"});
  for (long i = 0; i < n; i += 1000) {
    std::string bytes;
    const long m = std::min(1000L, n - i);
    for (long j = 0; j < m; ++j) bytes += resp({"XADD", "bench", "*", "id", std::to_string(i + j), "payload", kBody});
    r.send(bytes);
    for (long j = 0; j < m; ++j) r.reply();
  }
  std::cout << "TOPICS_RESULT filled=" << n << std::endl;
  return 0;
}

int insert() {
  const int port = static_cast<int>(optl("port"));
  const long seconds = optl("seconds", "5");
  const long clients = optl("clients", "4");
  std::atomic<int64_t> done = 0;
  std::atomic<bool> stop = false;
  std::vector<std::thread> threads;
  for (long c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      asio::io_context io;
      Http h(io, port, opt("auth"));
      for (int64_t i = 0; !stop; ++i) {
        h.sql("INSERT INTO bench.plain (id, body) VALUES (" +
              std::to_string(c * 100000000 + i + std::stol(opt("base", "0"))) + ", 'x')");
        ++done;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  std::cout << "TOPICS_RESULT inserts_per_s=" << done / seconds << std::endl;
  return 0;
}


int waiters() {
  const int port = static_cast<int>(optl("port"));
  const long n = optl("n", "1000");
  const long seconds = optl("seconds", "5");
  const long pid = optl("pid");
  const std::string topic = opt("topic"), auth = opt("auth");
  asio::io_context io;
  std::atomic<long> answered = 0, with_message = 0;
  std::atomic<int64_t> last_answer_us = 0;
  std::vector<std::shared_ptr<beast::tcp_stream>> streams;
  const auto endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
  // Each waiter: its own group (so each gets the message), placed at the topic's end first.
  for (long i = 0; i < n; ++i) {
    auto stream = std::make_shared<beast::tcp_stream>(io);
    stream->connect(endpoint);
    streams.push_back(stream);
    auto ask = [&, stream, i](int timeout) {
      http::request<http::string_body> req{http::verb::post, "/v1/api/topics/consume", 11};
      req.set(http::field::host, "127.0.0.1");
      req.set(http::field::authorization, auth);
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = "{\"topic_id\":\"" + topic + "\",\"group_id\":\"w" + std::to_string(i) +
                   "\",\"start\":\"Latest\",\"timeout_seconds\":" + std::to_string(timeout) + "}";
      req.prepare_payload();
      return req;
    };
    // The group's first read, answered at once: it places the group.
    http::write(*stream, ask(0));
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(*stream, buffer, res);
    auto req = std::make_shared<http::request<http::string_body>>(ask(30));
    http::async_write(*stream, *req, [&, stream, req](beast::error_code ec, size_t) {
      if (ec) fail("write: " + ec.message());
      auto buffer = std::make_shared<beast::flat_buffer>();
      auto res = std::make_shared<http::response<http::string_body>>();
      http::async_read(*stream, *buffer, *res, [&, buffer, res](beast::error_code ec, size_t) {
        if (ec) fail("read: " + ec.message());
        if (res->body().find("\"offset\"") != std::string::npos) ++with_message;
        last_answer_us = now_us();
        ++answered;
      });
    });
  }
  std::thread runner([&] { io.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // every request is waiting
  const double cpu_before = cpu_s(pid);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double cpu_waiting = cpu_s(pid) - cpu_before;
  const long early = answered;
  asio::io_context io2;
  Http h(io2, port, auth);
  const int64_t sent = now_us();
  h.sql("INSERT INTO bench.events (id, room, author, body) VALUES (7, 'r1', 'author-1', 'wake up')");
  while (answered < n && now_us() - sent < 30000000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  io.stop();
  runner.join();
  std::cout << "TOPICS_RESULT waiters=" << n << " answered_early=" << early << " with_message=" << with_message
            << " cpu_waiting_s=" << cpu_waiting << " wait_seconds=" << seconds
            << " wake_all_us=" << (answered == n ? last_answer_us - sent : -1) << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  wsb::error_tag = "TOPICS_ERROR";
  if (argc < 2) fail("usage: topics_bench MODE key=value...");
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (eq == std::string::npos) fail("bad argument " + a);
    opts[a.substr(0, eq)] = a.substr(eq + 1);
  }
  const std::string mode = argv[1];
  try {
    if (mode == "kalam-e2e") return e2e(true);
    if (mode == "redis-e2e") return e2e(false);
    if (mode == "kalam-drain") return drain(true);
    if (mode == "redis-drain") return drain(false);
    if (mode == "redis-fill") return redis_fill();
    if (mode == "kalam-insert") return insert();
    if (mode == "kalam-waiters") return waiters();
  } catch (const std::exception& e) {
    fail(mode + ": " + e.what());
  }
  fail("unknown mode " + mode);
}
