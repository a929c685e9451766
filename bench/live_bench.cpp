// Load generator of bench/live.sh (see bench/README.md): live-query delivery on KalamDB
// (WebSocket /v1/ws + POST /v1/api/sql) and Redis pub/sub (RESP over TCP), on 127.0.0.1.
//
//   live_bench MODE key=value...
//
//   kalam-latency port= token= n= warmup= base= body= [sql_port=]
//       one WebSocket subscriber on `SELECT * FROM bench.chat WHERE room = 'r1'`, one HTTP
//       client inserting one row at a time (the next once the change has arrived), to
//       sql_port when given (another node of a cluster), else to port:
//       latency = INSERT sent -> change message received.
//   redis-latency port= n= warmup= base= body=
//       one SUBSCRIBE r1 connection, one PUBLISH r1 connection, the same way.
//   kalam-fanout port= token= conns= subs= rounds= warmup= base= body= window=
//       conns connections with subs subscriptions each on `... WHERE room = 'fan'`; per
//       round one single-row INSERT (up to `window` rounds in flight).
//   redis-fanout port= conns= subs= rounds= warmup= base= body= window=
//       conns connections SUBSCRIBEd to channels fan0..fan<subs-1>; per round one pipelined
//       batch of PUBLISH fan0..fan<subs-1> (conns x subs messages, like KalamDB's).
//   kalam-setup port= token= conns= subs= pid=
//   redis-setup port= conns= subs= pid=
//       open conns connections (KalamDB: authenticated with ?token=), then send subs
//       subscriptions on each at once and wait for every acknowledgement; the server's
//       VmRSS (/proc/<pid>/status) before, with the idle connections, with the idle
//       subscriptions, and after closing everything.
//
// Prints one line "LIVE_RESULT key=value ..." (times in microseconds unless the key says
// otherwise, sizes in bytes), or "LIVE_ERROR text" and exits 1.
#include "ws_bench.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

using namespace wsb;

// The id in `"id":123` after `"rows":[{` (KalamDB change) or in a payload (Redis).
int64_t parse_id(std::string_view text) {
  size_t at = text.find("\"id\":");
  if (at == std::string_view::npos) return -1;
  at += 5;
  int64_t v = 0;
  bool any = false;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    v = v * 10 + (text[at++] - '0');
    any = true;
  }
  return any ? v : -1;
}

// The row object as KalamDB sends it; Redis gets the same bytes as its payload.
std::string row_object(int64_t id, const std::string& room, const std::string& body) {
  return "{\"id\":" + std::to_string(id) + ",\"room\":\"" + room +
         "\",\"author\":\"author-1\",\"body\":\"" + body +
         "\",\"created_at\":\"2026-01-01T00:00:00.000000Z\",\"_seq\":759123456789012345}";
}

std::string insert_sql(int64_t id, const std::string& room, const std::string& body) {
  return "INSERT INTO bench.chat (id, room, author, body, created_at) VALUES (" +
         std::to_string(id) + ", '" + room + "', 'author-1', '" + body +
         "', '2026-01-01 00:00:00')";
}

// ------------------------------------------------------------------ RESP
std::string resp_command(const std::vector<std::string>& words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const auto& w : words) out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
  return out;
}

// Parses one RESP value (simple string, error, integer, bulk string, or an array of those)
// from data[pos..]; on success appends its elements to out, advances pos and returns true.
bool resp_parse(const std::string& data, size_t& pos, std::vector<std::string>& out) {
  size_t p = pos;
  auto line = [&](std::string& l) {
    size_t e = data.find("\r\n", p);
    if (e == std::string::npos) return false;
    l = data.substr(p, e - p);
    p = e + 2;
    return true;
  };
  auto scalar = [&]() -> bool {
    if (p >= data.size()) return false;
    char t = data[p++];
    std::string l;
    if (!line(l)) return false;
    if (t == '$') {
      long n = std::stol(l);
      if (n < 0) {
        out.emplace_back();
        return true;
      }
      if (data.size() < p + n + 2) return false;
      out.push_back(data.substr(p, n));
      p += n + 2;
      return true;
    }
    if (t == '-') fail("Redis error: " + l);
    out.push_back(l);  // + and :
    return true;
  };
  size_t mark = out.size();
  if (p < data.size() && data[p] == '*') {
    ++p;
    std::string l;
    if (!line(l)) return false;
    long n = std::stol(l);
    for (long i = 0; i < n; ++i) {
      if (!scalar()) {
        out.resize(mark);
        return false;
      }
    }
  } else if (!scalar()) {
    out.resize(mark);
    return false;
  }
  pos = p;
  return true;
}

// A blocking RESP connection.
class RedisSync {
 public:
  RedisSync(asio::io_context& io, int port) : socket_(io) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    socket_.set_option(tcp::no_delay(true));
  }
  void write(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  std::vector<std::string> read() {
    std::vector<std::string> out;
    while (true) {
      size_t pos = 0;
      if (!data_.empty() && resp_parse(data_, pos, out)) {
        data_.erase(0, pos);
        return out;
      }
      char chunk[65536];
      size_t n = socket_.read_some(asio::buffer(chunk));
      data_.append(chunk, n);
    }
  }

 private:
  tcp::socket socket_;
  std::string data_;
};

// ------------------------------------------------------------------ single-subscriber latency
struct Arrivals {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int64_t> at;  // per id - base: arrival time, 0 = not yet
  size_t change_bytes = 0, row_bytes = 0;
  std::string unexpected;
};

void latency_loop(Arrivals& arr, int64_t base, long n, long warmup,
                  const std::function<void(int64_t id)>& send_and_ack, std::string& extra_out) {
  std::vector<int64_t> lat, ack;
  for (long i = 0; i < warmup + n; ++i) {
    const int64_t id = base + i;
    const int64_t t0 = now_us();
    send_and_ack(id);
    const int64_t t_ack = now_us();
    std::unique_lock lock(arr.mu);
    if (!arr.cv.wait_for(lock, std::chrono::seconds(10), [&] { return arr.at[i] != 0; })) {
      fail("no message for id " + std::to_string(id) + " within 10 s" +
           (arr.unexpected.empty() ? "" : " (got: " + arr.unexpected.substr(0, 200) + ")"));
    }
    if (i >= warmup) {
      lat.push_back(arr.at[i] - t0);
      ack.push_back(t_ack - t0);
    }
  }
  extra_out = summary("deliver", lat) + " " + summary("ack", ack);
}

int kalam_latency() {
  const int port = opt_int("port", 0);
  const std::string token = opt("token");
  const long n = opt_int("n", 2000), warmup = opt_int("warmup", 200);
  const int64_t base = opt_int("base", 1000000);
  const std::string body(opt_int("body", 22), 'x');

  asio::io_context io;
  websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws.next_layer().set_option(tcp::no_delay(true));
  ws.handshake("127.0.0.1:" + std::to_string(port), "/v1/ws?token=" + token);
  beast::flat_buffer buf;
  auto read_text = [&] {
    buf.consume(buf.size());
    ws.read(buf);
    return beast::buffers_to_string(buf.data());
  };
  std::string m = read_text();
  if (m.find("\"auth_success\"") == std::string::npos) fail("ws auth: " + m);
  ws.text(true);
  ws.write(asio::buffer(std::string(
      "{\"type\":\"subscribe\",\"subscription\":{\"id\":\"s1\",\"sql\":\"SELECT * FROM bench.chat "
      "WHERE room = 'r1'\",\"options\":{\"last_rows\":1}}}")));
  while (true) {
    m = read_text();
    if (m.find("\"type\":\"error\"") != std::string::npos) fail("subscribe: " + m);
    if (m.find("\"status\":\"ready\"") != std::string::npos) break;
  }

  Arrivals arr;
  arr.at.assign(n + warmup, 0);
  std::thread reader([&] {
    beast::flat_buffer b;
    try {
      while (true) {
        b.consume(b.size());
        ws.read(b);
        const int64_t t = now_us();
        std::string text = beast::buffers_to_string(b.data());
        const int64_t id = parse_id(text);
        std::lock_guard lock(arr.mu);
        if (text.rfind("{\"type\":\"change\"", 0) == 0 && id >= base && id < base + n + warmup) {
          arr.at[id - base] = t;
          arr.change_bytes = text.size();
          size_t a = text.find("\"rows\":[") + 8, e = text.rfind(']');
          arr.row_bytes = e > a ? e - a : 0;
        } else {
          arr.unexpected = text;
        }
        arr.cv.notify_all();
      }
    } catch (const std::exception&) {
    }
  });

  Http client(io, static_cast<int>(opt_int("sql_port", port)), "Bearer " + token);
  std::string stats;
  latency_loop(arr, base, n, warmup, [&](int64_t id) { client.sql(insert_sql(id, "r1", body)); },
               stats);
  std::cout << "LIVE_RESULT " << stats << " change_bytes=" << arr.change_bytes
            << " row_bytes=" << arr.row_bytes << std::endl;
  std::cout.flush();
  std::_Exit(0);  // the reader blocks in read(); no orderly close needed
}

int redis_latency() {
  const int port = opt_int("port", 0);
  const long n = opt_int("n", 2000), warmup = opt_int("warmup", 200);
  const int64_t base = opt_int("base", 1000000);
  const std::string body(opt_int("body", 22), 'x');

  asio::io_context io;
  RedisSync sub(io, port), pub(io, port);
  sub.write(resp_command({"SUBSCRIBE", "r1"}));
  auto confirm = sub.read();
  if (confirm.empty() || confirm[0] != "subscribe") fail("SUBSCRIBE: unexpected reply");

  Arrivals arr;
  arr.at.assign(n + warmup, 0);
  std::thread reader([&] {
    try {
      while (true) {
        auto v = sub.read();
        const int64_t t = now_us();
        std::lock_guard lock(arr.mu);
        if (v.size() == 3 && v[0] == "message") {
          const int64_t id = parse_id(v[2]);
          if (id >= base && id < base + n + warmup) arr.at[id - base] = t;
          arr.row_bytes = v[2].size();
        }
        arr.cv.notify_all();
      }
    } catch (const std::exception&) {
    }
  });
  std::string stats;
  latency_loop(arr, base, n, warmup,
               [&](int64_t id) {
                 pub.write(resp_command({"PUBLISH", "r1", row_object(id, "r1", body)}));
                 auto r = pub.read();
                 if (r.empty() || r[0] != "1") fail("PUBLISH reached " + (r.empty() ? "?" : r[0]));
               },
               stats);
  std::cout << "LIVE_RESULT " << stats << " row_bytes=" << arr.row_bytes << std::endl;
  std::cout.flush();
  std::_Exit(0);
}

// ------------------------------------------------------------------ many connections
// Counters shared by every connection coroutine (the io threads) and the main thread.
struct Shared {
  std::atomic<long> opened{0}, failed{0}, acked{0}, delivered{0}, errors{0}, other{0};
  std::mutex mu;
  std::string first_error;
  std::vector<int64_t> lat;  // delivery latencies of measured rounds (under mu)
  std::vector<std::atomic<int64_t>> sent;  // per round: send time
  int64_t base = 0;
  long warmup = 0;
  size_t msg_bytes = 0;

  void error(const std::string& e) {
    errors++;
    std::lock_guard lock(mu);
    if (first_error.empty()) first_error = e.substr(0, 300);
  }
  void change(int64_t id, int64_t t, size_t bytes) {
    const int64_t round = id - base;
    if (round < 0 || round >= static_cast<int64_t>(sent.size())) {
      other++;
      return;
    }
    if (round >= warmup) {
      std::lock_guard lock(mu);
      lat.push_back(t - sent[round].load());
      msg_bytes = bytes;
    }
    delivered++;
  }
};

// KalamDB connections of the many-connection modes speak WebSocket by hand (RFC 6455:
// the upgrade, unmasked server frames parsed in bulk, masked client frames), so that the
// load generator costs about as little per message as the RESP side does.
struct KalamConn {
  explicit KalamConn(asio::io_context& io) : socket(asio::make_strand(io)) {}
  tcp::socket socket;
};

void kalam_message(Shared& s, std::string_view text, int64_t t, bool& authed) {
  if (text.starts_with("{\"type\":\"change\"")) {
    s.change(parse_id(text), t, text.size());
  } else if (text.starts_with("{\"type\":\"subscription_ack\"") ||
             text.starts_with("{\"type\":\"initial_data_batch\"")) {
    if (text.find("\"status\":\"ready\"") != std::string_view::npos) s.acked++;
  } else if (!authed && text.starts_with("{\"type\":\"auth_success\"")) {
    authed = true;
    s.opened++;
  } else if (text.starts_with("{\"type\":\"error\"") || text.starts_with("{\"type\":\"auth_error\"")) {
    s.error(std::string(text));
    if (!authed) throw std::runtime_error("authentication failed");
  } else {
    s.other++;
  }
}

awaitable<void> kalam_reader(std::shared_ptr<KalamConn> c, Shared& s, int port, std::string token) {
  bool authed = false;
  try {
    std::string data = co_await ws_connect(c->socket, port, "/v1/ws?token=" + token);
    std::string fragments;
    char chunk[65536];
    while (true) {
      const int64_t t = now_us();
      ws_take_frames(data, fragments, [&](std::string_view text) { kalam_message(s, text, t, authed); }, s.other);
      size_t n = co_await c->socket.async_read_some(asio::buffer(chunk), use_awaitable);
      data.append(chunk, n);
    }
  } catch (const boost::system::system_error& e) {
    if (!closed_on_purpose(e.code())) s.error(std::string("connection: ") + e.what());
    s.failed++;
  } catch (const std::exception& e) {
    s.error(std::string("connection: ") + e.what());
    s.failed++;
  }
}

// Sends subs subscribe messages at once (one write).
awaitable<void> kalam_subscribe(std::shared_ptr<KalamConn> c, int idx, int subs, std::string room) {
  std::string frames;
  for (int k = 0; k < subs; ++k) {
    const std::string r = room.empty() ? "sub-" + std::to_string(idx) + "-" + std::to_string(k) : room;
    frames += ws_frame("{\"type\":\"subscribe\",\"subscription\":{\"id\":\"s" + std::to_string(k) +
                       "\",\"sql\":\"SELECT * FROM bench.chat WHERE room = '" + r + "'\"}}");
  }
  try {
    co_await asio::async_write(c->socket, asio::buffer(frames), use_awaitable);
  } catch (const std::exception&) {
  }
}

struct RedisConn {
  explicit RedisConn(asio::io_context& io) : socket(asio::make_strand(io)) {}
  tcp::socket socket;
};

awaitable<void> redis_reader(std::shared_ptr<RedisConn> c, Shared& s, int port) {
  try {
    co_await c->socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                     use_awaitable);
    c->socket.set_option(tcp::no_delay(true));
    s.opened++;
    std::string data;
    std::vector<std::string> v;
    char chunk[65536];
    while (true) {
      size_t n = co_await c->socket.async_read_some(asio::buffer(chunk), use_awaitable);
      const int64_t t = now_us();
      data.append(chunk, n);
      size_t pos = 0;
      while (true) {
        v.clear();
        if (!resp_parse(data, pos, v)) break;
        if (v.size() == 3 && v[0] == "message") {
          s.change(parse_id(v[2]), t, v[2].size());
        } else if (v.size() == 3 && v[0] == "subscribe") {
          s.acked++;
        } else {
          s.other++;
        }
      }
      data.erase(0, pos);
    }
  } catch (const boost::system::system_error& e) {
    if (!closed_on_purpose(e.code())) s.error(std::string("connection: ") + e.what());
    s.failed++;
  }
}

struct Fleet {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::vector<std::thread> threads;
  Shared s;
  std::vector<std::shared_ptr<KalamConn>> kalam;
  std::vector<std::shared_ptr<RedisConn>> redis;
  bool is_kalam;
  int port;
  std::string token;

  Fleet(bool k, int p, std::string t) : is_kalam(k), port(p), token(std::move(t)) {
    guard.emplace(io.get_executor());
    const int n = opt_int("threads", 1);
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { io.run(); });
  }
  // Opens conns connections, at most 200 handshakes in flight; returns seconds taken.
  double open(int conns) {
    const int64_t t0 = now_us();
    for (int i = 0; i < conns; ++i) {
      while (i - s.opened - s.failed >= 200) sleep_ms(1);
      if (is_kalam) {
        auto c = std::make_shared<KalamConn>(io);
        kalam.push_back(c);
        asio::co_spawn(c->socket.get_executor(), kalam_reader(c, s, port, token), asio::detached);
      } else {
        auto c = std::make_shared<RedisConn>(io);
        redis.push_back(c);
        asio::co_spawn(c->socket.get_executor(), redis_reader(c, s, port), asio::detached);
      }
    }
    if (!wait_until([&] { return s.opened + s.failed >= conns; }, 120)) fail("connections: timeout");
    if (s.failed > 0) fail("connections failed: " + std::to_string(s.failed.load()) + " (" + s.first_error + ")");
    return (now_us() - t0) / 1e6;
  }
  // Every connection subscribes subs times (KalamDB: room `room`, or a room of its own per
  // subscription when empty; Redis: channels <prefix>0..<prefix><subs-1>).
  void subscribe(int subs, const std::string& room_or_prefix) {
    if (is_kalam) {
      for (size_t i = 0; i < kalam.size(); ++i) {
        auto& c = kalam[i];
        asio::co_spawn(c->socket.get_executor(), kalam_subscribe(c, i, subs, room_or_prefix), asio::detached);
      }
    } else {
      for (size_t i = 0; i < redis.size(); ++i) {
        auto& c = redis[i];
        std::vector<std::string> words{"SUBSCRIBE"};
        for (int k = 0; k < subs; ++k) {
          words.push_back(room_or_prefix.empty()
                              ? "sub-" + std::to_string(i) + "-" + std::to_string(k)
                              : room_or_prefix + std::to_string(k));
        }
        auto cmd = std::make_shared<std::string>(resp_command(words));
        asio::post(c->socket.get_executor(), [c, cmd] {
          asio::async_write(c->socket, asio::buffer(*cmd), [c, cmd](beast::error_code, size_t) {});
        });
      }
    }
  }
  void close() {
    for (auto& c : kalam) {
      asio::post(c->socket.get_executor(), [c] {
        beast::error_code ec;
        c->socket.close(ec);
      });
    }
    for (auto& c : redis) {
      asio::post(c->socket.get_executor(), [c] {
        beast::error_code ec;
        c->socket.close(ec);
      });
    }
  }
  void stop() {
    guard.reset();
    io.stop();
    for (auto& t : threads) t.join();
  }
};

int fanout(bool is_kalam) {
  const int port = opt_int("port", 0);
  const int conns = opt_int("conns", 1000), subs = opt_int("subs", 10);
  const long rounds = opt_int("rounds", 50), warmup = opt_int("warmup", 5);
  const int window = opt_int("window", 1);
  const int64_t base = opt_int("base", 2000000);
  const std::string body(opt_int("body", 22), 'x');
  const std::string token = opt("token");
  const long pid = opt_int("pid", 0);

  Fleet f(is_kalam, port, token);
  f.s.base = base;
  f.s.warmup = warmup;
  f.s.sent = std::vector<std::atomic<int64_t>>(rounds + warmup);
  const double open_s = f.open(conns);
  const int64_t t_sub = now_us();
  f.subscribe(subs, is_kalam ? "fan" : "fan");
  const long expected_acks = static_cast<long>(conns) * subs;
  if (!wait_until([&] { return f.s.acked + f.s.errors >= expected_acks; }, 180)) {
    fail("subscriptions: " + std::to_string(f.s.acked.load()) + " of " + std::to_string(expected_acks) + " acknowledged");
  }
  if (f.s.errors > 0) fail("subscribe errors: " + std::to_string(f.s.errors.load()) + " (" + f.s.first_error + ")");
  const double sub_s = (now_us() - t_sub) / 1e6;
  sleep_ms(500);

  asio::io_context io;
  std::unique_ptr<Http> client;
  std::unique_ptr<RedisSync> pub;
  if (is_kalam) client = std::make_unique<Http>(io, port, "Bearer " + token);
  else pub = std::make_unique<RedisSync>(io, port);
  const long per_round = expected_acks;
  int64_t t_start = 0;
  double server_cpu0 = 0, client_cpu0 = 0;
  long timeouts = 0;
  const long total = rounds + warmup;
  for (long r = 0; r < total; ++r) {
    // At most `window` rounds in flight: wait for round r - window to be complete.
    if (r >= window) {
      const long need = (r - window + 1) * per_round;
      if (!wait_until([&] { return f.s.delivered >= need; }, 20)) {
        ++timeouts;
        break;
      }
    }
    if (r == warmup) {
      t_start = now_us();
      server_cpu0 = pid > 0 ? cpu_s(pid) : 0;
      client_cpu0 = self_cpu_s();
    }
    const int64_t id = base + r;
    f.s.sent[r] = now_us();
    if (is_kalam) {
      client->sql(insert_sql(id, "fan", body));
    } else {
      std::string batch;
      const std::string payload = row_object(id, "fan", body);
      for (int k = 0; k < subs; ++k) batch += resp_command({"PUBLISH", "fan" + std::to_string(k), payload});
      pub->write(batch);
      for (int k = 0; k < subs; ++k) {
        auto v = pub->read();
        if (v.empty() || std::stol(v[0]) != conns) fail("PUBLISH reached " + (v.empty() ? "?" : v[0]));
      }
    }
  }
  const long want = total * per_round;
  if (!wait_until([&] { return f.s.delivered >= want; }, 30)) ++timeouts;
  const int64_t t_end = now_us();
  const double server_cpu = pid > 0 ? cpu_s(pid) - server_cpu0 : -1;
  const double client_cpu = self_cpu_s() - client_cpu0;
  const long measured = f.s.delivered - warmup * per_round;
  std::vector<int64_t> lat;
  {
    std::lock_guard lock(f.s.mu);
    lat = f.s.lat;
  }
  std::cout << "LIVE_RESULT conns=" << conns << " subs=" << subs << " rounds=" << rounds
            << " window=" << window << " open_s=" << open_s << " subscribe_s=" << sub_s
            << " delivered=" << measured << " expected=" << rounds * per_round
            << " seconds=" << (t_end - t_start) / 1e6
            << " rows_per_s=" << static_cast<int64_t>(measured / ((t_end - t_start) / 1e6))
            << " rounds_per_s=" << (rounds / ((t_end - t_start) / 1e6))
            << " timeouts=" << timeouts << " errors=" << f.s.errors << " other=" << f.s.other
            << " msg_bytes=" << f.s.msg_bytes << " server_cpu_s=" << server_cpu
            << " client_cpu_s=" << client_cpu << " " << summary("lat", lat) << std::endl;
  if (!f.s.first_error.empty()) std::cout << "LIVE_FIRST_ERROR " << f.s.first_error << std::endl;
  std::cout.flush();
  std::_Exit(0);
}

int setup(bool is_kalam) {
  const int port = opt_int("port", 0);
  const int conns = opt_int("conns", 1000), subs = opt_int("subs", 100);
  const long pid = opt_int("pid", 0);
  const std::string token = opt("token");
  const int settle = opt_int("settle_ms", 2000);
  const int timeout = opt_int("timeout", 240);
  const int drain = opt_int("drain", 60);
  auto live_count = [&]() -> long {
    if (!is_kalam) return -1;
    asio::io_context io;
    Http client(io, port, "Bearer " + token);
    return count_of(client.sql("SELECT count(*) FROM system.live_queries"));
  };

  Fleet f(is_kalam, port, token);
  sleep_ms(settle / 2);
  const long rss0 = rss_kb(pid);
  const double open_s = f.open(conns);
  sleep_ms(settle);
  const long rss1 = rss_kb(pid);

  const long expected = static_cast<long>(conns) * subs;
  const int64_t t0 = now_us();
  f.subscribe(subs, "");
  // Acknowledgements after 1, 3, 10 and 30 s (how the rate holds up), then until all are in.
  std::map<int, long> acked_at;
  bool done = false;
  for (int mark : {1, 3, 10, 30, timeout}) {
    if (mark > timeout) continue;
    const int64_t until = t0 + mark * 1000000LL;
    while (!(done = f.s.acked + f.s.errors >= expected) && now_us() < until) sleep_ms(1);
    if (done) break;
    acked_at[mark] = f.s.acked;
  }
  const double sub_s = (now_us() - t0) / 1e6;
  const long acked = f.s.acked;
  const double server_cpu = pid > 0 ? cpu_s(pid) : -1;
  sleep_ms(settle);
  const long rss2 = rss_kb(pid);
  const long live_rows = live_count();
  const long subs_held = live_rows > 0 ? live_rows : acked;

  // Close every connection; KalamDB: until system.live_queries is empty again.
  const int64_t t_close = now_us();
  f.close();
  wait_until([&] { return f.s.failed >= conns; }, 30);
  long live_after = live_count();
  if (is_kalam) {
    const int64_t until = t_close + drain * 1000000LL;
    while (live_after > 0 && now_us() < until) {
      sleep_ms(250);
      live_after = live_count();
    }
  }
  const double drain_s = (now_us() - t_close) / 1e6;
  sleep_ms(settle);
  const long rss3 = rss_kb(pid);
  std::cout << "LIVE_RESULT conns=" << conns << " subs=" << subs << " open_s=" << open_s
            << " subscribe_s=" << sub_s << " complete=" << (done ? 1 : 0) << " acked=" << acked
            << " expected=" << expected;
  for (auto [mark, n] : acked_at) std::cout << " acked_" << mark << "s=" << n;
  std::cout << " errors=" << f.s.errors << " other=" << f.s.other << " rss0_kb=" << rss0
            << " rss_conns_kb=" << rss1 << " rss_subs_kb=" << rss2 << " rss_closed_kb=" << rss3
            << " per_conn_bytes=" << (rss1 - rss0) * 1024 / conns
            << " per_sub_bytes=" << (rss2 - rss1) * 1024 / std::max<long>(1, subs_held)
            << " subs_held=" << subs_held << " live_queries=" << live_rows
            << " live_queries_after_close=" << live_after << " drain_s=" << drain_s
            << " server_cpu_total_s=" << server_cpu << std::endl;
  if (!f.s.first_error.empty()) std::cout << "LIVE_FIRST_ERROR " << f.s.first_error << std::endl;
  std::cout.flush();
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: live_bench MODE key=value...\n";
    return 2;
  }
  error_tag = "LIVE_ERROR";
  parse_options(argc, argv);
  const std::string mode = argv[1];
  try {
    if (mode == "kalam-latency") return kalam_latency();
    if (mode == "redis-latency") return redis_latency();
    if (mode == "kalam-fanout") return fanout(true);
    if (mode == "redis-fanout") return fanout(false);
    if (mode == "kalam-setup") return setup(true);
    if (mode == "redis-setup") return setup(false);
  } catch (const std::exception& e) {
    fail(std::string(mode) + ": " + e.what());
  }
  fail("unknown mode " + mode);
}
