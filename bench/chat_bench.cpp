// Load generator of bench/chat.sh (see bench/README.md): a chat on KalamDB, all on 127.0.0.1.
//
//   chat_bench run key=value...
//
// Users <user_prefix>0..N-1 (password <password_prefix><i>, created beforehand by the
// script), room_size members to a room (user i is in room i / room_size). Each user holds
// one WebSocket connection to /v1/ws, authenticated by Basic credentials on the upgrade,
// with two subscriptions:
//   "m": SELECT * FROM chat.messages WHERE room_id = 'r<room>'   (SHARED, public)
//   "i": SELECT * FROM chat.inbox                                 (USER: the user's own rows)
// Senders (`senders` threads, each one HTTP keep-alive connection as root) INSERT messages
// at `rate` per second spread over the rooms of the connected users, one statement a
// message carrying its send time (`sent_at`, µs of the steady clock); one message in
// `inbox_every` also notifies one other member of the room, in the same request:
// `EXECUTE AS USER '<member>' (INSERT INTO chat.inbox ...)`. Every member receives every
// message of its room, the notified member also the inbox row; latency = the row's
// sent_at -> the change message read by the member's connection. Every delivery is
// accounted for: per message a bit per member (duplicates and losses counted), late ones
// (of an earlier run) and stray ones (a room the connection is not in) counted apart.
//
// Phases, in order:
//   mem:    the server's VmRSS (pid=) before, with mem_conns connections authenticated,
//           and with their subscriptions; then connections are closed down to the first
//           step's count (until system.live_queries agrees).
//   load:   for each count in steps= (comma separated): connections opened (and
//           subscribed) up to it, then `rate` messages/s for `seconds`.
//   search: at search_conns (one of the steps, run after its load): the rate from
//           search_start, doubled while a run holds (delivery p99 <= p99_ms, nothing lost
//           or duplicated, the senders kept within 5% of the rate), then bisected
//           search_bisect times between the best that held and the lowest that did not;
//           search_seconds each.
//   perf:   with perf_out=FILE, after the load at perf_conns: `perf record -g -p <pid>`
//           over one more run like the load (reported apart).
// Options: port auth (Authorization value for root) pid user_prefix password_prefix
// room_size (<= 64) mem_conns steps rate seconds senders inbox_every body history (the
// message subscription's last_rows) base (the first message id) drain (s to wait for stragglers) threads (client I/O
// threads) search_conns search_start search_max search_seconds search_bisect p99_ms
// perf_out perf_conns.
//
// Prints lines "CHAT_RESULT phase=... key=value ..." (times in µs unless the key says
// otherwise), or "CHAT_ERROR text" and exits 1.
#include "ws_bench.h"

#include <spawn.h>
#include <sys/wait.h>

#include <bit>
#include <memory>
#include <mutex>
#include <optional>

extern char** environ;

namespace {

using namespace wsb;
using asio::awaitable;
using asio::use_awaitable;

// ------------------------------------------------------------------ messages of one run
struct Msg {
  std::atomic<uint64_t> got{0};  // a bit per member (slot) that received it
  std::atomic<int> inbox_got{0};
  int room = 0;
  int mention = -1;  // the user whose inbox is notified, or -1
};

struct Run {
  int64_t base = 0;
  std::vector<Msg> msgs;
  std::mutex mu;
  std::vector<int64_t> lat, inbox_lat;  // under mu
  std::atomic<int64_t> last_at{0};      // the latest delivery's arrival
  std::atomic<long> delivered{0}, inbox_delivered{0}, dups{0}, inbox_dups{0}, stray{0};
  Run(int64_t b, size_t n) : base(b), msgs(n) {}
};

// ------------------------------------------------------------------ connections
struct Conn {
  Conn(asio::io_context& io, int u, int room_size)
      : socket(asio::make_strand(io)), user(u), room(u / room_size), slot(u % room_size) {}
  tcp::socket socket;
  const int user, room, slot;
};

struct Shared {
  std::atomic<long> opened{0}, failed{0}, closed{0}, acked{0}, errors{0}, other{0}, late{0};
  std::atomic<Run*> run{nullptr};
  std::mutex mu;
  std::string first_error;
  size_t change_bytes = 0;
  void error(const std::string& e) {
    errors++;
    std::lock_guard lock(mu);
    if (first_error.empty()) first_error = e.substr(0, 300);
  }
};

Shared S;
int room_size = 10;
std::string user_prefix, password_prefix;

int64_t number_after(std::string_view text, std::string_view key, size_t from, size_t* end = nullptr) {
  size_t at = text.find(key, from);
  if (at == std::string_view::npos) return -1;
  at += key.size();
  int64_t v = 0;
  bool any = false;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    v = v * 10 + (text[at++] - '0');
    any = true;
  }
  if (end) *end = at;
  return any ? v : -1;
}

// A change message: each row's id and sent_at, accounted to the current run.
void on_change(const Conn& c, std::string_view text, int64_t t) {
  const size_t sid = text.find("\"subscription_id\":\"");
  if (sid == std::string_view::npos || sid + 20 > text.size()) {
    S.other++;
    return;
  }
  const bool inbox = text[sid + 19] == 'i';
  if (text.find("\"change_type\":\"insert\"") == std::string_view::npos) {
    S.other++;
    return;
  }
  Run* run = S.run.load();
  size_t pos = text.find("\"rows\":[");
  while (pos != std::string_view::npos) {
    size_t end = 0;
    const int64_t id = number_after(text, "{\"id\":", pos, &end);
    if (id < 0) break;
    const int64_t sent = number_after(text, "\"sent_at\":", end, &pos);
    if (sent < 0) {
      S.other++;
      break;
    }
    const int64_t k = run ? id - run->base : -1;
    if (!run || k < 0 || k >= static_cast<int64_t>(run->msgs.size())) {
      S.late++;
      continue;
    }
    Msg& m = run->msgs[k];
    if (inbox) {
      if (m.mention != c.user) {
        run->stray++;
      } else if (m.inbox_got.fetch_add(1) > 0) {
        run->inbox_dups++;
      } else {
        run->inbox_delivered++;
        std::lock_guard lock(run->mu);
        run->inbox_lat.push_back(t - sent);
      }
    } else {
      const uint64_t bit = 1ull << c.slot;
      if (m.room != c.room) {
        run->stray++;
      } else if (m.got.fetch_or(bit) & bit) {
        run->dups++;
      } else {
        run->delivered++;
        std::lock_guard lock(run->mu);
        run->lat.push_back(t - sent);
        S.change_bytes = text.size();
      }
    }
    int64_t last = run->last_at.load();
    while (last < t && !run->last_at.compare_exchange_weak(last, t)) {
    }
  }
}

void on_text(const Conn& c, std::string_view text, int64_t t, bool& authed, int& ready) {
  if (text.starts_with("{\"type\":\"change\"")) {
    on_change(c, text, t);
  } else if (text.starts_with("{\"type\":\"subscription_ack\"") ||
             text.starts_with("{\"type\":\"initial_data_batch\"")) {
    if (text.find("\"status\":\"ready\"") != std::string_view::npos) {
      ready++;
      S.acked++;
    }
  } else if (!authed && text.starts_with("{\"type\":\"auth_success\"")) {
    authed = true;
    S.opened++;
  } else if (text.starts_with("{\"type\":\"error\"") || text.starts_with("{\"type\":\"auth_error\"")) {
    S.error(std::string(text));
    if (!authed) throw std::runtime_error("authentication failed: " + std::string(text.substr(0, 200)));
  } else {
    S.other++;
  }
}

awaitable<void> reader(std::shared_ptr<Conn> c, int port) {
  bool authed = false;
  int ready = 0;
  try {
    const std::string name = user_prefix + std::to_string(c->user);
    const std::string creds = base64(name + ":" + password_prefix + std::to_string(c->user));
    std::string data = co_await ws_connect(c->socket, port, "/v1/ws", "Authorization: Basic " + creds + "\r\n");
    std::string fragments;
    char chunk[8192];
    while (true) {
      const int64_t t = now_us();
      ws_take_frames(data, fragments, [&](std::string_view text) { on_text(*c, text, t, authed, ready); }, S.other);
      size_t n = co_await c->socket.async_read_some(asio::buffer(chunk), use_awaitable);
      data.append(chunk, n);
    }
  } catch (const boost::system::system_error& e) {
    if (!closed_on_purpose(e.code())) S.error(std::string("connection: ") + e.what());
  } catch (const std::exception& e) {
    S.error(std::string("connection: ") + e.what());
  }
  if (authed) {
    S.closed++;
  } else {
    S.failed++;
  }
}

awaitable<void> subscribe(std::shared_ptr<Conn> c, int history) {
  const std::string frames =
      ws_frame("{\"type\":\"subscribe\",\"subscription\":{\"id\":\"m\",\"sql\":\"SELECT * FROM chat.messages "
               "WHERE room_id = 'r" + std::to_string(c->room) + "'\",\"options\":{\"last_rows\":" +
               std::to_string(history) + "}}}") +
      ws_frame("{\"type\":\"subscribe\",\"subscription\":{\"id\":\"i\",\"sql\":\"SELECT * FROM chat.inbox\","
               "\"options\":{\"last_rows\":" + std::to_string(history) + "}}}");
  try {
    co_await asio::async_write(c->socket, asio::buffer(frames), use_awaitable);
  } catch (const std::exception&) {
  }
}

struct Fleet {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<Conn>> conns;  // open ones: users 0..size-1
  int port;

  explicit Fleet(int p) : port(p) {
    guard.emplace(io.get_executor());
    const int n = opt_int("threads", 1);
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { io.run(); });
  }

  // Opens connections up to n (users size()..n-1), until all are authenticated; seconds
  // taken. At most 48 handshakes in flight: each is a password check, and past 64 waiting
  // (auth.password_check_queue) the server answers SERVICE_UNAVAILABLE.
  double open(int n) {
    const size_t from = conns.size();
    const long opened0 = S.opened;
    const int64_t t0 = now_us();
    for (int u = from; u < n; ++u) {
      while (static_cast<long>(u - from) - (S.opened - opened0) - S.failed >= 48) sleep_ms(1);
      auto c = std::make_shared<Conn>(io, u, room_size);
      conns.push_back(c);
      asio::co_spawn(c->socket.get_executor(), reader(c, port), asio::detached);
    }
    const long want = n - from;
    if (!wait_until([&] { return S.opened - opened0 + S.failed >= want; }, 300)) fail("connections: timeout");
    if (S.failed > 0) fail("connections failed: " + std::to_string(S.failed.load()) + " (" + S.first_error + ")");
    return (now_us() - t0) / 1e6;
  }

  // The connections from `from` on send their two subscribe messages (one write each);
  // seconds until every subscription is ready.
  double subscribe_from(size_t from, int history) {
    const long acked0 = S.acked, want = 2 * static_cast<long>(conns.size() - from);
    const int64_t t0 = now_us();
    for (size_t i = from; i < conns.size(); ++i) {
      asio::co_spawn(conns[i]->socket.get_executor(), subscribe(conns[i], history), asio::detached);
    }
    if (!wait_until([&] { return S.acked - acked0 + S.errors >= want; }, 300)) {
      fail("subscriptions: " + std::to_string(S.acked - acked0) + " of " + std::to_string(want) + " ready");
    }
    if (S.errors > 0) fail("subscribe errors: " + std::to_string(S.errors.load()) + " (" + S.first_error + ")");
    return (now_us() - t0) / 1e6;
  }

  // Closes the connections of users n.. .
  void shrink(size_t n) {
    const long closed0 = S.closed;
    const long k = conns.size() - n;
    for (size_t i = n; i < conns.size(); ++i) {
      auto c = conns[i];
      asio::post(c->socket.get_executor(), [c] {
        beast::error_code ec;
        c->socket.close(ec);
      });
    }
    if (!wait_until([&] { return S.closed - closed0 >= k; }, 60)) fail("closing: timeout");
    conns.resize(n);
  }
};

// ------------------------------------------------------------------ one run of messages
struct RunResult {
  bool held = false;
  std::string line;
};

int64_t next_base = 0;  // the first message id of the next run

RunResult load(Fleet& f, const std::string& phase, double rate, double seconds, long pid, int port,
               const std::string& auth) {
  const int conns = f.conns.size();
  const int rooms = conns / room_size;
  const int senders = opt_int("senders", 8);
  const int inbox_every = opt_int("inbox_every", 4);
  const int drain = opt_int("drain", 10);
  const std::string body(opt_int("body", 40), 'x');
  const size_t n = std::max<size_t>(1, static_cast<size_t>(std::llround(rate * seconds)));
  static std::vector<std::unique_ptr<Run>> runs;  // kept: a late reader may still hold one
  runs.push_back(std::make_unique<Run>(next_base, n));
  Run& run = *runs.back();
  next_base += 100000000;
  long inbox_n = 0;
  for (size_t k = 0; k < n; ++k) {
    Msg& m = run.msgs[k];
    m.room = k % rooms;
    // A quarter (1/inbox_every) of each round over the rooms, another quarter of the rooms
    // each round: every room's members get notifications, spread evenly in time.
    if (inbox_every > 0 && (k + k / rooms) % inbox_every == 0) {
      const int sender_slot = (k / rooms) % room_size;
      m.mention = m.room * room_size + (sender_slot + 1) % room_size;
      ++inbox_n;
    }
  }
  S.run = &run;
  const long late0 = S.late, other0 = S.other;

  std::vector<asio::io_context> ios(senders);
  std::vector<std::unique_ptr<Http>> clients;
  for (int j = 0; j < senders; ++j) clients.push_back(std::make_unique<Http>(ios[j], port, auth));
  std::vector<std::vector<int64_t>> acks(senders);
  std::vector<int64_t> lag(senders, 0);
  const double cpu0 = cpu_s(pid), self0 = self_cpu_s();
  const int64_t started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();  // to line runs up with the server's jobs
  const int64_t t0 = now_us() + 1000;
  std::vector<std::thread> threads;
  for (int j = 0; j < senders; ++j) {
    threads.emplace_back([&, j] {
      for (size_t k = j; k < n; k += senders) {
        const int64_t due = t0 + static_cast<int64_t>(k * 1e6 / rate);
        int64_t now = now_us();
        if (now < due) {
          std::this_thread::sleep_for(std::chrono::microseconds(due - now));
          now = now_us();
        }
        lag[j] = std::max(lag[j], now - due);
        const Msg& m = run.msgs[k];
        const int sender = m.room * room_size + (k / rooms) % room_size;
        const std::string id = std::to_string(run.base + k), room = "'r" + std::to_string(m.room) + "'",
                          from = "'" + user_prefix + std::to_string(sender) + "'";
        const int64_t sent = now_us();
        std::string sql = "INSERT INTO chat.messages (id, room_id, sender, body, sent_at) VALUES (" + id + ", " +
                          room + ", " + from + ", '" + body + "', " + std::to_string(sent) + ")";
        if (m.mention >= 0) {
          sql += "; EXECUTE AS USER '" + user_prefix + std::to_string(m.mention) +
                 "' (INSERT INTO chat.inbox (id, message_id, room_id, sender, sent_at) VALUES (" + id + ", " + id +
                 ", " + room + ", " + from + ", " + std::to_string(sent) + "))";
        }
        clients[j]->sql(sql);
        acks[j].push_back(now_us() - sent);
      }
    });
  }
  for (auto& t : threads) t.join();
  const int64_t t_sent = now_us();
  const long expected = static_cast<long>(n) * room_size;
  wait_until([&] { return run.delivered >= expected && run.inbox_delivered >= inbox_n; }, drain);
  sleep_ms(200);  // duplicates of the last messages, if any
  const double server_cpu = cpu_s(pid) - cpu0, client_cpu = self_cpu_s() - self0;
  S.run = nullptr;

  long lost = 0, inbox_lost = 0;
  for (auto& m : run.msgs) {
    lost += room_size - std::popcount(m.got.load());
    if (m.mention >= 0 && m.inbox_got == 0) ++inbox_lost;
  }
  std::vector<int64_t> lat, inbox_lat, ack;
  {
    std::lock_guard lock(run.mu);
    lat = run.lat;
    inbox_lat = run.inbox_lat;
  }
  for (auto& a : acks) ack.insert(ack.end(), a.begin(), a.end());
  std::sort(lat.begin(), lat.end());
  const double send_s = (t_sent - t0) / 1e6;
  const double span_s = std::max<int64_t>(1, run.last_at - t0) / 1e6;
  const double achieved = n / send_s;
  const int64_t p99 = pct(lat, 0.99);
  RunResult r;
  r.held = !lat.empty() && p99 <= opt_int("p99_ms", 50) * 1000 && lost == 0 && inbox_lost == 0 &&
           run.dups == 0 && run.inbox_dups == 0 && run.stray == 0 && achieved >= 0.95 * rate;
  std::ostringstream o;
  o << "CHAT_RESULT phase=" << phase << " conns=" << conns << " rooms=" << rooms << " rate=" << rate
    << " started_unix_ms=" << started_unix_ms
    << " seconds=" << seconds << " messages=" << n << " achieved_rate=" << static_cast<int64_t>(achieved)
    << " send_s=" << send_s << " max_lag_us=" << *std::max_element(lag.begin(), lag.end())
    << " expected=" << expected << " delivered=" << run.delivered << " lost=" << lost << " dups=" << run.dups
    << " inbox_expected=" << inbox_n << " inbox_delivered=" << run.inbox_delivered << " inbox_lost=" << inbox_lost
    << " inbox_dups=" << run.inbox_dups << " stray=" << run.stray << " late=" << S.late - late0
    << " other=" << S.other - other0 << " deliveries_per_s="
    << static_cast<int64_t>((run.delivered + run.inbox_delivered) / span_s) << " server_cpu_s=" << server_cpu
    << " client_cpu_s=" << client_cpu << " span_s=" << span_s << " held=" << (r.held ? 1 : 0)
    << " change_bytes=" << S.change_bytes << " " << summary("lat", lat) << " " << summary("inbox", inbox_lat)
    << " " << summary("ack", ack);
  r.line = o.str();
  std::cout << r.line << std::endl;
  return r;
}

long live_queries(int port, const std::string& auth) {
  asio::io_context io;
  Http client(io, port, auth);
  return count_of(client.sql("SELECT count(*) FROM system.live_queries"));
}

// Waits until the server holds 2 subscriptions per open connection; false on timeout.
bool settle_subscriptions(const Fleet& f, int port, const std::string& auth, int seconds) {
  const long want = 2 * static_cast<long>(f.conns.size());
  const int64_t until = now_us() + seconds * 1000000LL;
  while (live_queries(port, auth) != want) {
    if (now_us() > until) return false;
    sleep_ms(250);
  }
  return true;
}

void search(Fleet& f, long pid, int port, const std::string& auth) {
  const double seconds = opt_int("search_seconds", 4);
  const double max_rate = opt_int("search_max", 50000);
  int bisect = opt_int("search_bisect", 3);
  double rate = opt_int("search_start", 250), best = 0, worst = 0;  // worst: lowest that did not hold
  int steps = 0;
  while (true) {
    const RunResult r = load(f, "search", rate, seconds, pid, port, auth);
    ++steps;
    if (r.held) best = rate;
    else worst = rate;
    sleep_ms(1000);
    if (worst == 0) {
      if (rate * 2 > max_rate) break;
      rate *= 2;
    } else if (best == 0) {
      if (rate <= 10) break;
      rate = std::floor(rate / 2);
    } else {
      if (bisect-- <= 0) break;
      rate = std::round((best + worst) / 2 / 10) * 10;
      if (rate <= best || rate >= worst) break;
    }
  }
  std::cout << "CHAT_RESULT phase=best conns=" << f.conns.size() << " best_rate=" << best
            << " lowest_failed_rate=" << worst << " steps=" << steps << std::endl;
}

pid_t start_perf(long pid, const std::string& out, double seconds) {
  std::vector<std::string> args = {"perf", "record", "-g", "-q", "-p", std::to_string(pid), "-o", out, "--",
                                   "sleep", std::to_string(static_cast<int>(seconds))};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  if (posix_spawnp(&child, "perf", nullptr, nullptr, argv.data(), environ) != 0) return 0;
  return child;
}

int run_all() {
  const int port = opt_int("port", 0);
  const long pid = opt_int("pid", 0);
  const std::string auth = opt("auth");
  room_size = opt_int("room_size", 10);
  if (room_size < 1 || room_size > 64) fail("room_size must be 1..64");
  user_prefix = opt("user_prefix", "chat");
  password_prefix = opt("password_prefix", "chat-password-");
  const int history = opt_int("history", 0);
  const double rate = opt_int("rate", 500), seconds = opt_int("seconds", 10);
  std::vector<int> steps;
  {
    std::stringstream in(opt("steps", "1000,5000,10000"));
    std::string s;
    while (std::getline(in, s, ',')) steps.push_back(std::stoi(s));
  }
  if (steps.empty()) fail("no steps");
  for (int n : steps) {
    if (n % room_size != 0 || n < room_size) fail("each step must be a multiple of room_size");
  }
  const int mem_conns = opt_int("mem_conns", 10000);
  const int search_conns = opt_int("search_conns", steps.front());
  const std::string perf_out = opt("perf_out");
  next_base = opt_int("base", 1000000000);
  const int perf_conns = opt_int("perf_conns", steps.back());

  Fleet f(port);
  if (mem_conns > 0) {
    sleep_ms(1000);
    const long rss0 = rss_kb(pid);
    // Connections first (subscribed afterwards), to tell the two apart.
    const double conn_s = f.open(mem_conns);
    sleep_ms(2000);
    const long rss1 = rss_kb(pid);
    const double sub_s = f.subscribe_from(0, history);
    sleep_ms(2000);
    const long rss2 = rss_kb(pid);
    const long held = live_queries(port, auth);
    const size_t keep = std::min<size_t>(steps.front(), mem_conns);
    f.shrink(keep);
    const bool drained = settle_subscriptions(f, port, auth, 60);
    sleep_ms(2000);
    const long rss3 = rss_kb(pid);
    std::cout << "CHAT_RESULT phase=mem conns=" << mem_conns << " open_s=" << conn_s << " subscribe_s=" << sub_s
              << " live_queries=" << held << " rss0_kb=" << rss0 << " rss_conns_kb=" << rss1
              << " rss_subs_kb=" << rss2 << " rss_after_close_kb=" << rss3 << " kept=" << keep
              << " drained=" << (drained ? 1 : 0) << " per_conn_bytes=" << (rss2 - rss0) * 1024 / mem_conns
              << " per_bare_conn_bytes=" << (rss1 - rss0) * 1024 / mem_conns
              << " per_sub_bytes=" << (rss2 - rss1) * 1024 / std::max<long>(1, 2L * mem_conns) << std::endl;
  }

  for (int n : steps) {
    double open_s = 0, sub_s = 0;
    if (static_cast<int>(f.conns.size()) < n) {
      const size_t from = f.conns.size();
      open_s = f.open(n);
      sub_s = f.subscribe_from(from, history);
    } else if (static_cast<int>(f.conns.size()) > n) {
      f.shrink(n);
    }
    if (!settle_subscriptions(f, port, auth, 60)) fail("system.live_queries does not show 2 per connection");
    std::cout << "CHAT_RESULT phase=open conns=" << n << " open_s=" << open_s << " subscribe_s=" << sub_s
              << " rss_kb=" << rss_kb(pid) << std::endl;
    sleep_ms(1000);
    load(f, "load", rate, seconds, pid, port, auth);
    sleep_ms(1000);
    if (n == search_conns && opt_int("search", 1) == 1) search(f, pid, port, auth);
    if (n == perf_conns && !perf_out.empty()) {
      const pid_t perf = start_perf(pid, perf_out, seconds);
      if (perf == 0) {
        std::cout << "CHAT_RESULT phase=perf_failed" << std::endl;
      } else {
        sleep_ms(300);
        load(f, "perf", rate, seconds, pid, port, auth);
        int status = 0;
        waitpid(perf, &status, 0);
      }
    }
  }
  if (!S.first_error.empty()) std::cout << "CHAT_FIRST_ERROR " << S.first_error << std::endl;
  std::cout << "CHAT_RESULT phase=end errors=" << S.errors << " late=" << S.late << " other=" << S.other
            << std::endl;
  std::cout.flush();
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  error_tag = "CHAT_ERROR";
  if (argc < 2 || std::string(argv[1]) != "run") {
    std::cerr << "usage: chat_bench run key=value...\n";
    return 2;
  }
  parse_options(argc, argv);
  try {
    return run_all();
  } catch (const std::exception& e) {
    fail(std::string("run: ") + e.what());
  }
}
