// Measures Debian's Raft library (libraft 0.15, canonical raft) as cluster mode would use
// it: three replicas in three processes on this machine, a log on disk (fsync'd before an
// entry counts), TCP between them. Reports what the cluster's write path is built on:
// commit latency one entry at a time, throughput with entries in flight (small entries,
// and 16 KiB batches as a group commit would send), and how long a new leader takes after
// the leader is killed.
//
//   g++ -O2 -std=c++17 bench/raft_bench.cpp -o raft_bench -lraft -luv
//   raft_bench [DIR]          (DIR: where the replicas keep their logs; default /tmp)
//   raft_bench --fixture      the same loads through the library's deterministic fixture
//                             (in-memory disk and network, simulated time): its consensus
//                             logic alone, without its libuv I/O (its trace goes to
//                             standard error)
//
// Environment: RAFT_BENCH_ELECTION_MS (election timeout, default 1000), RAFT_BENCH_SNAPSHOT_EVERY
// (entries between snapshots; the library's default 1,024), RAFT_BENCH_TRACE=1 (state
// changes on standard error; LIBRAFT_TRACE=1 adds the library's own trace).
// Findings so far are in bench/README.md ("Cluster: the consensus library").
extern "C" {  // the library's headers have no C++ guards
#include <raft.h>
#include <raft/fixture.h>
#include <raft/uv.h>
}
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kReplicas = 3;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// ---- a replica (a child process) ----

struct Replica {
  int id = 0;
  uv_loop_t loop;
  raft_uv_transport transport;
  raft_io io;
  raft_fsm fsm;
  raft r;
  uv_timer_t watch;
  uv_signal_t start_signal;
  bool was_leader = false;
  uint64_t applied_bytes = 0;

  // The workload, run by the leader when the parent asks (SIGUSR1).
  enum class Phase { kIdle, kLatency, kSmall, kBatch, kDone } phase = Phase::kIdle;
  int in_flight = 0, window = 1;
  size_t entry_bytes = 200;
  int64_t phase_started = 0, phase_ends = 0;
  int64_t done_entries = 0;
  std::vector<double> latencies_us;
};

Replica* self = nullptr;

int Apply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
  static_cast<Replica*>(fsm->data)->applied_bytes += buf->len;
  *result = nullptr;
  return 0;
}

// Snapshots (taken every 1,024 entries by default; the library stalls without them): the
// state machine is a byte count.
int Snapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
  *bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  (*bufs)[0].len = sizeof(uint64_t);
  (*bufs)[0].base = raft_malloc(sizeof(uint64_t));
  std::memcpy((*bufs)[0].base, &static_cast<Replica*>(fsm->data)->applied_bytes, sizeof(uint64_t));
  *n = 1;
  return 0;
}

int Restore(raft_fsm* fsm, raft_buffer* buf) {
  std::memcpy(&static_cast<Replica*>(fsm->data)->applied_bytes, buf->base, sizeof(uint64_t));
  raft_free(buf->base);
  return 0;
}

// The replica's state machine: a byte count, with its snapshots.
void SetUpFsm(Replica& r) {
  r.fsm = raft_fsm{};
  r.fsm.version = 1;
  r.fsm.data = &r;
  r.fsm.apply = Apply;
  r.fsm.snapshot = Snapshot;
  r.fsm.restore = Restore;
}

void Submit(Replica* r);

struct Request {
  struct raft_apply req;
  int64_t started;
};

void Applied(struct raft_apply* req, int status, void*) {
  Request* request = reinterpret_cast<Request*>(req);
  Replica* r = self;
  --r->in_flight;
  if (status == 0) {
    ++r->done_entries;
    if (r->phase == Replica::Phase::kLatency) r->latencies_us.push_back((NowNs() - request->started) / 1e3);
  } else {
    std::fprintf(stderr, "replica %d: apply failed: %s\n", r->id, raft_strerror(status));
  }
  delete request;
  Submit(r);
}

void Report(Replica* r, const char* name) {
  const double seconds = (NowNs() - r->phase_started) / 1e9;
  std::string line = std::string("result ") + name + " entries=" + std::to_string(r->done_entries) +
                     " seconds=" + std::to_string(seconds) + " bytes=" + std::to_string(r->entry_bytes);
  if (!r->latencies_us.empty()) {
    auto& v = r->latencies_us;
    std::sort(v.begin(), v.end());
    line += " p50_us=" + std::to_string(v[v.size() / 2]) + " p99_us=" + std::to_string(v[v.size() * 99 / 100]);
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void StartPhase(Replica* r, Replica::Phase phase, int window, size_t bytes, double seconds) {
  r->phase = phase;
  r->window = window;
  r->entry_bytes = bytes;
  r->done_entries = 0;
  r->latencies_us.clear();
  r->phase_started = NowNs();
  r->phase_ends = r->phase_started + static_cast<int64_t>(seconds * 1e9);
}

void Submit(Replica* r) {
  if (r->phase == Replica::Phase::kIdle || r->phase == Replica::Phase::kDone) return;
  if (NowNs() >= r->phase_ends) {
    if (r->in_flight > 0) return;  // the last ones first
    switch (r->phase) {
      case Replica::Phase::kLatency:
        Report(r, "latency");
        StartPhase(r, Replica::Phase::kSmall, 64, 200, 3);
        break;
      case Replica::Phase::kSmall:
        Report(r, "small");
        StartPhase(r, Replica::Phase::kBatch, 8, 16384, 3);
        break;
      default:
        Report(r, "batch");
        r->phase = Replica::Phase::kDone;
        std::printf("done\n");
        std::fflush(stdout);
        return;
    }
  }
  while (r->in_flight < r->window) {
    raft_buffer buf;
    buf.len = r->entry_bytes;
    buf.base = raft_malloc(buf.len);
    std::memset(buf.base, 'x', buf.len);
    auto* request = new Request;
    request->started = NowNs();
    const int rv = raft_apply(&r->r, &request->req, &buf, 1, Applied);
    if (rv != 0) {
      raft_free(buf.base);
      delete request;
      std::fprintf(stderr, "replica %d: raft_apply: %s\n", r->id, raft_strerror(rv));
      r->phase = Replica::Phase::kDone;
      return;
    }
    ++r->in_flight;
  }
}

// Says "leader <id> <monotonic ns>" each time this replica becomes leader.
void Watch(uv_timer_t* timer) {
  Replica* r = static_cast<Replica*>(timer->data);
  const bool leader = raft_state(&r->r) == RAFT_LEADER;
  static int last_state = -1;
  if (getenv("RAFT_BENCH_TRACE") && raft_state(&r->r) != last_state) {
    last_state = raft_state(&r->r);
    std::fprintf(stderr, "%lld replica %d: state %d applied %llu last %llu\n", (long long)(NowNs() / 1000000), r->id,
                 last_state, (unsigned long long)raft_last_applied(&r->r), (unsigned long long)raft_last_index(&r->r));
  }
  if (leader && !r->was_leader) {
    std::printf("leader %d %lld\n", r->id, static_cast<long long>(NowNs()));
    std::fflush(stdout);
  }
  r->was_leader = leader;
}

void StartWorkload(uv_signal_t* signal, int) {
  Replica* r = static_cast<Replica*>(signal->data);
  StartPhase(r, Replica::Phase::kLatency, 1, 200, 3);
  Submit(r);
}

int RunReplica(int id, const std::string& dir, const std::vector<std::string>& addresses) {
  // A peer that died leaves sockets whose next write raises SIGPIPE, which would end this
  // replica too: ignored, as every server does (the write then fails with EPIPE).
  signal(SIGPIPE, SIG_IGN);
  Replica r;
  self = &r;
  r.id = id;
  uv_loop_init(&r.loop);
  int rv = raft_uv_tcp_init(&r.transport, &r.loop);
  if (rv == 0) rv = raft_uv_init(&r.io, &r.loop, dir.c_str(), &r.transport);
  SetUpFsm(r);
  if (rv == 0) rv = raft_init(&r.r, &r.io, &r.fsm, id, addresses[id - 1].c_str());
  if (rv != 0) {
    std::fprintf(stderr, "replica %d: init: %s\n", id, raft_strerror(rv));
    return 1;
  }
  const char* election = getenv("RAFT_BENCH_ELECTION_MS");
  raft_set_election_timeout(&r.r, election != nullptr ? static_cast<unsigned>(std::atoi(election)) : 1000);
  raft_set_heartbeat_timeout(&r.r, 100);
  // RAFT_BENCH_SNAPSHOT_EVERY: entries between snapshots (the library's default: 1,024).
  if (const char* every = getenv("RAFT_BENCH_SNAPSHOT_EVERY")) {
    raft_set_snapshot_threshold(&r.r, static_cast<unsigned>(std::atol(every)));
  }
  raft_configuration conf;
  raft_configuration_init(&conf);
  for (int i = 0; i < kReplicas; ++i) raft_configuration_add(&conf, i + 1, addresses[i].c_str(), RAFT_VOTER);
  rv = raft_bootstrap(&r.r, &conf);
  raft_configuration_close(&conf);
  if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
    std::fprintf(stderr, "replica %d: bootstrap: %s\n", id, raft_strerror(rv));
    return 1;
  }
  rv = raft_start(&r.r);
  if (rv != 0) {
    std::fprintf(stderr, "replica %d: start: %s\n", id, raft_strerror(rv));
    return 1;
  }
  uv_timer_init(&r.loop, &r.watch);
  r.watch.data = &r;
  uv_timer_start(&r.watch, Watch, 5, 5);
  uv_signal_init(&r.loop, &r.start_signal);
  r.start_signal.data = &r;
  uv_signal_start(&r.start_signal, StartWorkload, SIGUSR1);
  return uv_run(&r.loop, UV_RUN_DEFAULT);
}

// ---- the library's own fixture: consensus without libuv ----

namespace fixture {

int in_flight = 0;
long done = 0, failed = 0;
unsigned killed = 0;

struct Request {
  struct raft_apply req;
};

void Applied(struct raft_apply* req, int status, void*) {
  --in_flight;
  ++(status == 0 ? done : failed);
  delete reinterpret_cast<Request*>(req);
}

bool AnotherLeads(raft_fixture* f, void*) {
  for (unsigned i = 0; i < raft_fixture_n(f); ++i) {
    if (i != killed && raft_fixture_alive(f, i) && raft_state(raft_fixture_get(f, i)) == RAFT_LEADER) return true;
  }
  return false;
}

// Four rounds of each load: the leader applies the entries, then is killed and revived.
// Returns 0 when every round applied everything and elected a new leader.
int Run() {
  struct Load {
    const char* name;
    int window;
    size_t bytes;
    long entries;
  };
  const Load loads[] = {{"one at a time", 1, 200, 5000},
                        {"64 in flight", 64, 200, 50000},
                        {"8 in flight, 16 KiB", 8, 16384, 20000}};
  int status = 0;
  for (const Load& load : loads) {
    // Each load in a process of its own: a second fixture in the same process breaks
    // (0.15 keeps state across fixtures, and its close frees twice).
    const pid_t child = fork();
    if (child > 0) {
      int child_status = 0;
      waitpid(child, &child_status, 0);
      if (!WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0) status = 1;
      continue;
    }
    raft_fixture f;
    raft_fixture_initialize(&f);
    Replica replicas[kReplicas];
    for (auto& r : replicas) {
      SetUpFsm(r);
      raft_fixture_grow(&f, &r.fsm);
    }
    raft_configuration conf;
    raft_fixture_configuration(&f, kReplicas, &conf);
    raft_fixture_bootstrap(&f, &conf);
    raft_configuration_close(&conf);
    raft_fixture_start(&f);
    std::string failovers;
    int rounds_ok = 0;
    for (int round = 0; round < 4; ++round) {
      if (!raft_fixture_step_until_has_leader(&f, 10000)) break;
      const unsigned leader = raft_fixture_leader_index(&f);
      raft* r = raft_fixture_get(&f, leader);
      done = failed = 0;
      in_flight = 0;
      raft_time progress = raft_fixture_time(&f);
      long seen = 0;
      bool stalled = false;
      while (done + failed < load.entries && !stalled) {
        while (in_flight < load.window && done + failed + in_flight < load.entries) {
          raft_buffer buf;
          buf.len = load.bytes;
          buf.base = raft_malloc(buf.len);
          std::memset(buf.base, 'x', buf.len);
          auto* request = new Request;
          if (raft_apply(r, &request->req, &buf, 1, Applied) != 0) {
            raft_free(buf.base);
            delete request;
            stalled = true;
            break;
          }
          ++in_flight;
        }
        raft_fixture_step(&f);
        if (done != seen) {
          seen = done;
          progress = raft_fixture_time(&f);
        }
        stalled = stalled || raft_fixture_time(&f) - progress > 30000;
      }
      if (stalled || failed > 0) break;
      killed = leader;
      raft_fixture_kill(&f, leader);
      const raft_time at = raft_fixture_time(&f);
      if (!raft_fixture_step_until(&f, AnotherLeads, nullptr, 60000)) break;
      failovers += (failovers.empty() ? "" : ", ") + std::to_string(raft_fixture_time(&f) - at);
      raft_fixture_step_until_has_leader(&f, 10000);
      raft_fixture_revive(&f, leader);
      ++rounds_ok;
    }
    std::printf("| %s | %d of 4 | %s |\n", load.name, rounds_ok, failovers.c_str());
    std::fflush(stdout);
    _exit(rounds_ok == 4 ? 0 : 1);  // the fixture is not closed (see above)
  }
  return status;
}

}  // namespace fixture

// ---- the parent ----

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
};

// The replica that said last that it became leader (0: none yet).
int current_leader = 0;

// Reads lines from every child until one starts with prefix; returns it. Notes every
// "leader" line on the way (leadership may move during a load).
std::string WaitLine(std::vector<Child>& children, const std::string& prefix) {
  while (true) {
    fd_set set;
    FD_ZERO(&set);
    int max_fd = -1;
    for (auto& c : children) {
      if (c.out == nullptr) continue;
      FD_SET(fileno(c.out), &set);
      max_fd = std::max(max_fd, fileno(c.out));
    }
    timeval timeout{60, 0};
    if (select(max_fd + 1, &set, nullptr, nullptr, &timeout) <= 0) return "";
    for (auto& c : children) {
      if (c.out == nullptr || !FD_ISSET(fileno(c.out), &set)) continue;
      char line[512];
      if (std::fgets(line, sizeof(line), c.out) == nullptr) {
        c.out = nullptr;
        continue;
      }
      std::string text(line);
      if (!text.empty() && text.back() == '\n') text.pop_back();
      if (text.rfind("leader ", 0) == 0) current_leader = std::atoi(text.c_str() + 7);
      if (text.rfind(prefix, 0) == 0) return text;
      if (text.rfind("result", 0) == 0) std::printf("  %s\n", text.c_str());
    }
  }
}

std::string Field(const std::string& line, const std::string& name) {
  const auto at = line.find(name + "=");
  if (at == std::string::npos) return "";
  const auto end = line.find(' ', at);
  return line.substr(at + name.size() + 1, end == std::string::npos ? std::string::npos : end - at - name.size() - 1);
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);  // lines as they come, also into a pipe
  if (argc > 1 && std::string(argv[1]) == "--fixture") {
    std::printf("| libraft 0.15 fixture (in-memory I/O, snapshots every 1,024 entries) | rounds applied and failed over | new leader after, ms simulated |\n|---|---:|---|\n");
    return fixture::Run();
  }
  std::string base = argc > 1 ? argv[1] : "/tmp";
  char pattern[512];
  std::snprintf(pattern, sizeof(pattern), "%s/raft-bench-XXXXXX", base.c_str());
  const std::string dir = mkdtemp(pattern);
  std::vector<std::string> addresses;
  const int port = 20000 + (getpid() % 20000);
  for (int i = 0; i < kReplicas; ++i) addresses.push_back("127.0.0.1:" + std::to_string(port + i));

  std::vector<Child> children(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    const std::string replica_dir = dir + "/" + std::to_string(i + 1);
    mkdir(replica_dir.c_str(), 0700);
    int fds[2];
    if (pipe(fds) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      dup2(fds[1], STDOUT_FILENO);
      _exit(RunReplica(i + 1, replica_dir, addresses));
    }
    close(fds[1]);
    children[i].pid = pid;
    children[i].out = fdopen(fds[0], "r");
    // Unbuffered: WaitLine select()s on the descriptor, and a buffered stream would keep
    // lines already read from the pipe where select() can't see them.
    setvbuf(children[i].out, nullptr, _IONBF, 0);
  }

  std::string leader = WaitLine(children, "leader");
  if (leader.empty()) {
    std::fprintf(stderr, "raft_bench: no leader within 60 s\n");
    return 2;
  }
  int leader_id = std::atoi(leader.c_str() + 7);
  std::printf("leader: replica %d\n", leader_id);
  kill(children[leader_id - 1].pid, SIGUSR1);
  std::vector<std::string> results;
  while (true) {
    std::string line = WaitLine(children, "");
    if (line.empty() || line == "done") break;
    if (line.rfind("result", 0) == 0) results.push_back(line);
  }

  std::printf("\n| libraft 0.15, 3 replicas, one machine | entries | entry bytes | entries/s | MB/s | p50 ms | p99 ms |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string& r : results) {
    const double entries = std::atof(Field(r, "entries").c_str());
    const double seconds = std::atof(Field(r, "seconds").c_str());
    const double bytes = std::atof(Field(r, "bytes").c_str());
    const std::string name = r.substr(7, r.find(' ', 7) - 7);
    const char* label = name == "latency"  ? "one at a time"
                        : name == "small" ? "64 in flight"
                                          : "8 in flight (group-commit batches)";
    const std::string p50 = Field(r, "p50_us"), p99 = Field(r, "p99_us");
    std::printf("| %s | %.0f | %.0f | %.0f | %.1f | %s | %s |\n", label, entries, bytes, entries / seconds,
                entries * bytes / seconds / 1e6, p50.empty() ? "" : std::to_string(std::atof(p50.c_str()) / 1e3).substr(0, 5).c_str(),
                p99.empty() ? "" : std::to_string(std::atof(p99.c_str()) / 1e3).substr(0, 5).c_str());
  }

  // Failover: kill the leader (the one now: it may have moved during the loads), time the
  // next one.
  if (current_leader != leader_id) {
    std::printf("\n(leadership moved during the loads: replica %d leads now)\n", current_leader);
    leader_id = current_leader;
  }
  const int64_t killed = NowNs();
  kill(children[leader_id - 1].pid, SIGKILL);
  waitpid(children[leader_id - 1].pid, nullptr, 0);
  children[leader_id - 1].out = nullptr;
  std::string next = WaitLine(children, "leader");
  if (!next.empty()) {
    const long long at = std::atoll(next.c_str() + next.rfind(' ') + 1);
    const char* election = getenv("RAFT_BENCH_ELECTION_MS");
    std::printf("\nfailover: replica %d led %.0f ms after the leader was killed (election timeout %s ms)\n",
                std::atoi(next.c_str() + 7), (at - killed) / 1e6, election != nullptr ? election : "1000");
  } else {
    std::printf("\nfailover: no new leader within 60 s\n");
  }
  for (auto& c : children) {
    if (c.pid > 0) kill(c.pid, SIGKILL);
  }
  for (auto& c : children) {
    if (c.pid > 0) waitpid(c.pid, nullptr, 0);
  }
  std::string remove = "rm -rf '" + dir + "'";
  return std::system(remove.c_str()) == 0 ? 0 : 1;
}
